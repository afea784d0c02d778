/**
 * Who may run maintenance (`POST /+gc`, `POST /+cleanup`): `root` (HTTP Basic or a login token,
 * master only) or the holder of the data directory's secret file, by a replica token in
 * `Authorization: Bearer` (what `wheelhouse gc` / `wheelhouse cleanup` send; works on masters and
 * replicas alike). 401 without credentials, 403 with others.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { REPLICA_SUBJECT, type TokenSigner } from '../auth/tokens.js';
import type { Authenticator } from '../auth/authenticator.js';

/** The system principal maintenance runs as when started with the secret file (logs, reports). */
export const CLEANUP_PRINCIPAL = 'root/+cleanup';

/** The operator of a request (`root` or {@link CLEANUP_PRINCIPAL}); throws 401/403 as above. */
export async function requireOperator(headers: IncomingHttpHeaders, replicaTokens: TokenSigner, auth?: Authenticator): Promise<string> {
  const header = headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer !== undefined) {
    if (replicaTokens.verify(bearer, REPLICA_SUBJECT)) return CLEANUP_PRINCIPAL;
    throw new ForbiddenError('the bearer token is not a valid token of this cluster\'s secret');
  }
  const who = auth && header ? (await auth.principal(headers))?.name : undefined;
  if (who === 'root') return 'root';
  if (!header) throw new UnauthorizedError('authentication required: root, or a token of the secret file');
  throw new ForbiddenError(`only root may run maintenance${who ? `, not '${who}'` : ''}`);
}
