/**
 * The final express error middleware: every error of the express path goes through
 * `sendError` of `@wheelhouse/http` — the same function the raw read path's guard uses (status
 * from the one error table, devpi's `{"message": …}`, the socket destroyed once headers went out).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { sendError } from '@wheelhouse/http';
import { BadRequestError, ForbiddenError, UnauthorizedError } from '../errors.js';
import { requestContext } from './request-log.js';

/**
 * The error a client is answered for `err`: a URL segment that is not valid percent-encoding
 * (express's router throws a URIError while decoding route parameters) is the client's fault, 400;
 * a 401 or 403 of a request whose credentials of an existing user were refused becomes a 401 that
 * says why (`wrong password for user alice`, with `WWW-Authenticate` so twine's retry with
 * credentials works as before).
 */
export function clientError(err: unknown, req: Request): unknown {
  if (err instanceof URIError) return new BadRequestError(`invalid percent-encoding in the URL path ${JSON.stringify(req.path.slice(0, 200))}`);
  // refused credentials make the request anonymous; a refusal of an anonymous request (401, or
  // devpi's 403 for anonymous changes) then says why the credentials were refused, as a 401
  if (err instanceof UnauthorizedError || err instanceof ForbiddenError) {
    const why = requestContext(req).authFailure;
    if (why !== undefined) return new UnauthorizedError(why);
  }
  return err;
}

/** The final express error middleware (see module doc). */
export function createErrorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => sendError(log, req, res, clientError(err, req));
}
