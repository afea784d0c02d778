/**
 * Errors of the wire framing (`frames.ts`). They extend the changelog's `ChangelogError`, so a
 * caller that switches on a stable `code` sees them as before the move out of the changelog.
 */
import { ChangelogError } from '@wheelhouse/changelog';

/** A replication frame whose payload does not match its checksum. Code 'EFRAMECHECKSUM'. */
export class FrameChecksumError extends ChangelogError {
  constructor(length: number) {
    super('EFRAMECHECKSUM', `frame checksum mismatch (payload of ${length} bytes)`);
  }
}

/** A replication frame with an impossible header (length > 256 MiB). Code 'EFRAMEFORMAT'. */
export class FrameFormatError extends ChangelogError {
  constructor(message: string) {
    super('EFRAMEFORMAT', `invalid frame: ${message}`);
  }
}
