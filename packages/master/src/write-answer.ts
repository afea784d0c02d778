/**
 * What a write route answers, as plain data (so the write decisions are tested without sockets),
 * and how it is sent: devpi's JSON envelope with the status, and the serial of the commit in
 * `X-Devpi-Serial` (absent when nothing was committed). Also the JSON body parser of the write API.
 */
import express, { type Response } from 'express';
import { sendJson, type Envelope } from '@wheelhouse/http';

/** A write's answer: HTTP status, envelope, and the serial of its commit (null: nothing committed). */
export interface WriteAnswer {
  status: number;
  envelope: Envelope;
  serial: number | null;
}

/** JSON bodies: parsed whatever the Content-Type says (devpi-client and curl users omit it); 10 MB at most. */
export const jsonBody = express.json({ type: () => true, strict: false, limit: '10mb' });

/** Sets `X-Devpi-Serial` when a commit happened. */
function setSerial(res: Response, serial: number | null): void {
  if (serial !== null) res.setHeader('X-Devpi-Serial', String(serial));
}

/** Sends a {@link WriteAnswer}. */
export function sendWrite(res: Response, answer: WriteAnswer): void {
  setSerial(res, answer.serial);
  sendJson(res, answer.status, answer.envelope);
}
