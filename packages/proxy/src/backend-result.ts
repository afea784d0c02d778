/**
 * What one attempt at a backend came to, in the terms the retry and ejection rules decide on: the
 * status the backend answered, or the code of the transport error that stopped the exchange.
 */

/** A backend's answer (`status`: the HTTP status) or a transport failure (`errorCode`: a Node/undici code). */
export type BackendResult = { readonly status: number } | { readonly errorCode: string };

/**
 * The code of a transport error: undici puts the socket's code on `cause`; falls back to the
 * error's own `code`, then its message, then `'error'`. Never throws.
 */
export function errorCodeOf(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; message?: string } | null | undefined;
  return e?.cause?.code ?? e?.code ?? e?.message ?? 'error';
}
