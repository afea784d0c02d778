/**
 * The final express error middleware: every error of the express path goes through
 * `sendError` of `@wheelhouse/http` — the same function the raw read path's guard uses (status
 * from the one error table, devpi's `{"message": …}`, the socket destroyed once headers went out).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { sendError } from '@wheelhouse/http';

/** The final express error middleware (see module doc). */
export function createErrorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => sendError(log, req, res, err);
}
