/**
 * The one place errors become HTTP responses: typed WheelhouseErrors map to their status with
 * devpi's `{"message": …}` JSON (the message also goes in the reason phrase, which twine prints);
 * express's body-parser errors become 400/413; anything else is a logged 500. When headers are
 * already sent (a streamed file), the socket is destroyed instead of writing a second response.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { WheelhouseError } from '../errors.js';
import { sendJson, toReasonPhrase } from './respond.js';

/** The final express error middleware. */
export function createErrorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      log.warn({ err, url: req.url }, 'error after response started; closing connection');
      res.destroy();
      return;
    }
    let status = 500;
    let message = 'internal server error';
    let headers: Record<string, string> = {};
    if (err instanceof WheelhouseError) {
      status = err.status;
      message = err.message;
      headers = { ...err.headers };
    } else if (isBodyParserError(err)) {
      status = err.status;
      message =
        err.type === 'entity.parse.failed'
          ? `invalid JSON body: ${err.message}`
          : err.type === 'entity.too.large'
            ? 'request body too large'
            : err.message;
    } else {
      log.error({ err, method: req.method, url: req.url }, 'unhandled error');
    }
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.statusMessage = toReasonPhrase(message);
    sendJson(res, status, { message });
  };
}

function isBodyParserError(err: unknown): err is { status: number; type: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err && typeof (err as { status: unknown }).status === 'number';
}
