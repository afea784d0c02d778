/**
 * Serves bytes that arrive from elsewhere (a replica's master, a mirror's upstream) to the client
 * while they are stored: every chunk goes to the client as it arrives except the last one, which is
 * held back until the file store has verified length and sha256 — so a client never receives a
 * complete-looking corrupt file; on a mismatch the connection is cut instead (devpi #483 without
 * its risk).
 */
import type { ServerResponse } from 'node:http';
import type { FileStore } from '@wheelhouse/changelog';

/**
 * Streams `source` to `res` (headers must be set; status 200 is written with the first chunk) and
 * into `files`. Resolves once stored and sent; rejects (after destroying `res` if bytes were
 * sent) on a transfer error or a failed check.
 */
export async function streamWhileStoring(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array>,
  files: FileStore,
  expect: { sha256?: string; size?: number },
  sendBody = true,
): Promise<{ sha256: string; size: number }> {
  let held: Uint8Array | undefined;
  async function* tee(): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      if (held && sendBody && !res.write(held)) await new Promise((r) => res.once('drain', r));
      held = chunk;
      yield chunk;
    }
  }
  try {
    const stored = await files.put(tee(), {
      ...(expect.sha256 ? { expectedSha256: expect.sha256 } : {}),
      ...(expect.size !== undefined ? { expectedSize: expect.size } : {}),
    });
    res.end(sendBody ? held : undefined);
    return stored;
  } catch (err) {
    if (res.headersSent) res.destroy();
    throw err;
  }
}
