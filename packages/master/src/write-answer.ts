/**
 * What a write route answers, as plain data (so the write decisions are tested without sockets),
 * and how it is sent: devpi's JSON envelope with the status, and the serial of the commit in
 * `X-Devpi-Serial` (absent when nothing was committed). Also the JSON body parser of the write API.
 */
import express, { type RequestHandler, type Response } from 'express';
import { PayloadTooLargeError, assertJsonDepth } from '@wheelhouse/core';
import { isBodyParserError, sendJson, type Envelope } from '@wheelhouse/http';
import { awaitReplicated } from './write-ack.js';

/** A write's answer: HTTP status, envelope, and the serial of its commit (null: nothing committed). */
export interface WriteAnswer {
  status: number;
  envelope: Envelope;
  serial: number | null;
}

/** Largest JSON body of the write API, bytes (a test result's own limit is 1 MiB; configs are far smaller). */
export const JSON_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

const parseJson = express.json({ type: () => true, strict: false, limit: JSON_BODY_LIMIT_BYTES });

/**
 * JSON bodies: parsed whatever the Content-Type says (devpi-client and curl users omit it); at most
 * {@link JSON_BODY_LIMIT_BYTES} (413 naming the limit) and `FIELD_LIMITS.jsonDepth` levels deep (400),
 * so no body can overflow the stack of whatever walks it later (`JSON.stringify`, ajv).
 */
export const jsonBody: RequestHandler = (req, res, next) => {
  parseJson(req, res, (err?: unknown) => {
    if (err) {
      if (isBodyParserError(err) && err.type === 'entity.too.large') {
        next(new PayloadTooLargeError(`the JSON body is larger than ${JSON_BODY_LIMIT_BYTES} bytes, the limit`));
      } else next(err);
      return;
    }
    try {
      assertJsonDepth('the JSON body', req.body);
    } catch (depthErr) {
      next(depthErr);
      return;
    }
    next();
  });
};

/** Sets `X-Devpi-Serial` when a commit happened. */
function setSerial(res: Response, serial: number | null): void {
  if (serial !== null) res.setHeader('X-Devpi-Serial', String(serial));
}

/** Sends a {@link WriteAnswer} at once (answers that change nothing: login). */
export function sendAnswer(res: Response, answer: WriteAnswer): void {
  setSerial(res, answer.serial);
  sendJson(res, answer.status, answer.envelope);
}

/**
 * Sends a {@link WriteAnswer} once its serial (or, when nothing was committed, the head) is
 * replicated as the sync settings ask (`write-ack.ts`); rejects with NotReplicatedError (503) otherwise.
 */
export async function sendWrite(res: Response, answer: WriteAnswer): Promise<void> {
  await awaitReplicated(res, answer.serial);
  sendAnswer(res, answer);
}
