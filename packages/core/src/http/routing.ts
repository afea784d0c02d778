/**
 * Express plumbing shared by the routers of every node (read API, web pages, the master's write
 * routes): async handlers whose rejection reaches the error handler, route parameters as strings,
 * reserved user/index segments refused at the router, and the authenticated user once per request.
 */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response, Router } from 'express';
import { parseCredentials, type Authenticator } from '../auth/authenticator.js';
import { clientAddress } from '../auth/client-address.js';
import { isValidUserOrIndexName } from '../names.js';
import type { Principal } from '../acl.js';
import { requestContext } from './request-log.js';

/** Wraps an async handler so its rejection reaches the error handler. */
export function handle(fn: (req: Request, res: Response) => unknown | Promise<unknown>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };
}

/** Route parameter as a string (express 5 gives string or string[]; a list is joined with `/`); '' when absent. */
export function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}

/** Rejects user/index segments that are reserved (`+…`) or invalid, so the route does not match (`next('route')`). */
export function validSegments(router: Router): void {
  for (const name of ['user', 'index']) {
    router.param(name, (_req, _res, next, value: string) => {
      if (!isValidUserOrIndexName(value) || value.startsWith('+')) next('route');
      else next();
    });
  }
}

/**
 * Resolves the authenticated principal (name and directory groups) once per request (stored in
 * the request context); undefined = anonymous. Any node request (express's, or the raw read path's: the read gate). Throws as `Authenticator.authenticate` (429, and 503
 * when the LDAP directory must check the password and cannot be reached). Refused credentials of an existing user leave the reason in the context (`authFailure`),
 * which the error handler puts into a 401's message.
 */
export async function principalOf(auth: Authenticator, req: IncomingMessage): Promise<Principal> {
  const ctx = requestContext(req);
  if (!ctx.resolved) {
    const creds = parseCredentials(req.headers);
    const result = creds ? await auth.authenticate(creds, clientAddress(req.headers, req.socket.remoteAddress)) : {};
    if (result.user !== undefined) [ctx.user, ctx.principal] = [result.user.name, result.user];
    else if (result.failure) ctx.authFailure = result.failure;
    ctx.resolved = true;
  }
  return ctx.principal;
}
