/**
 * The read gate of a node (issue 15): one decision per request, taken before the fast read path
 * and express alike, of whether the request may read the index its URL names
 * (`/{user}/{index}/…`: simple pages, `+f`/`+e` release files and `.metadata`, the index and
 * project JSON, `+explain`, web pages, docs — everything of an index lives under its path; a
 * release file's `+f` path names the index that stores it). An open index (every index of its
 * resolution order readable by anonymous: `read-access.ts`) costs one map lookup and no
 * authentication. A restricted one authenticates (`principalOf`, once per request, shared with
 * express's routes) and then: passes, with every answer `Cache-Control: private`
 * (`keepPrivate`); or refuses — 401 with `WWW-Authenticate: Basic` without credentials (pip then
 * retries with those of the URL or `.netrc`) or with refused ones (saying why), 403 for a user not
 * allowed. A replica's token (`Authorization: Bearer`, the replica signer) reads everything: a
 * replica asks its master for mirror pages and files on behalf of readers it checked itself.
 * Only GET and HEAD are gated; writes carry their own ACLs (push checks the source's read right).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { keepPrivate } from '@wheelhouse/http';
import { parseCredentials, type Authenticator } from '../auth/authenticator.js';
import { REPLICA_SUBJECT, type TokenSigner } from '../auth/tokens.js';
import { UnauthorizedError } from '../errors.js';
import { failedReadRule, readRefusal, type ReadAccess } from '../model/read-access.js';
import { requestContext } from './request-log.js';
import { principalOf } from './routing.js';

/** What the gate needs. */
export interface ReadGateDeps {
  access: ReadAccess;
  auth: Authenticator;
  /** Verifies replica tokens (absent: none is trusted). */
  replicaTokens?: TokenSigner;
}

/**
 * Decides a request (see module doc): undefined when it may go on at once (no restriction); else a
 * promise that resolves when it may go on, or rejects with UnauthorizedError (401) or
 * ForbiddenError (403) to be answered by the caller's guard.
 */
export type ReadGate = (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined;

function segment(s: string | undefined): string | undefined {
  if (!s || s.startsWith('+') || s.startsWith('%2B') || s.startsWith('%2b')) return undefined;
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * The `user/index` a request path names — its first two segments, percent-decoded as the routers
 * decode them — or undefined (`/`, `/{user}`, `/+search`, …: no index).
 */
export function stageOfUrl(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.charCodeAt(0) !== 47 /* / */) return undefined;
  const second = path.indexOf('/', 1);
  if (second < 0) return undefined;
  const third = path.indexOf('/', second + 1);
  const user = segment(path.slice(1, second));
  const index = segment(third < 0 ? path.slice(second + 1) : path.slice(second + 1, third));
  return user === undefined || index === undefined ? undefined : `${user}/${index}`;
}

function isReplica(tokens: TokenSigner | undefined, authorization: string | undefined): boolean {
  if (!tokens || !authorization) return false;
  const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
  return token !== undefined && tokens.verify(token, REPLICA_SUBJECT) !== undefined;
}

/** Builds the gate (see module doc). */
export function createReadGate(deps: ReadGateDeps): ReadGate {
  const { access, auth, replicaTokens } = deps;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    const stage = stageOfUrl(req.url ?? '/');
    if (stage === undefined) return undefined;
    const requirement = access.requirement(stage);
    if (requirement === undefined || requirement.open) return undefined;
    return (async () => {
      if (!isReplica(replicaTokens, req.headers.authorization)) {
        const principal = await principalOf(auth, req);
        const failed = failedReadRule(requirement, principal);
        if (failed) {
          const creds = parseCredentials(req.headers);
          // refused credentials: 401 saying why (the password, the token, or an unknown user)
          if (principal === undefined && creds) throw new UnauthorizedError(requestContext(req).authFailure ?? `the credentials of user ${creds.user} were refused`);
          throw readRefusal(stage, failed, principal, creds?.user);
        }
      }
      keepPrivate(res);
    })();
  };
}

/**
 * `next` behind `gate`: called at once when the gate lets the request through synchronously, else
 * once its promise resolves. Returns the gate's promise (a rejection is the refusal for the
 * caller's `guard()` to answer), never `next`'s result: `next` answers, and guards, by itself.
 */
export function behindGate(gate: ReadGate, next: (req: IncomingMessage, res: ServerResponse) => unknown): (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined {
  return (req, res) => {
    const wait = gate(req, res);
    if (wait === undefined) {
      next(req, res);
      return undefined;
    }
    return wait.then(() => {
      next(req, res);
    });
  };
}
