/** Where a request reached this server from (devpi's `X-outside-url`). */
import type { IncomingMessage } from 'node:http';

/**
 * The server's outside URL for a request, without trailing slash: devpi's `X-outside-url` header
 * first, then the configured outside URL, then `X-Forwarded-Proto/Host` or `Host` (the scheme `https`
 * on a TLS connection, `http` otherwise).
 */
export function outsideUrl(req: IncomingMessage, configured?: string): string {
  const header = req.headers['x-outside-url'];
  if (typeof header === 'string' && /^https?:\/\//.test(header)) return header.replace(/\/+$/, '');
  if (configured) return configured.replace(/\/+$/, '');
  const proto = (req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0]?.trim() ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  const host = (req.headers['x-forwarded-host'] as string | undefined)?.split(',')[0]?.trim() ?? req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}
