/**
 * What the read path needs from a node to serve mirror indexes: the master talks to upstream, a
 * replica asks its master (never upstream). Both commit nothing on a read themselves except the
 * master's cache writes, which replicate like any change.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MirrorLink } from '../model/records.js';
import type { SimpleFormat } from './negotiate.js';

/** Outcome of preparing a mirror's cached page. */
export interface PrepareOutcome {
  /** Set when the page is served stale because upstream could not be reached (a warning for the client). */
  stale?: string;
  /** Set when nothing is cached and upstream failed (→ 502 when no other stage has the project). */
  error?: string;
}

/**
 * Mirror operations of a node (see module doc). The `serve*` methods resolve once the answer is
 * written and reject with typed errors (NotFoundError, BadGatewayError, …) while nothing was sent;
 * the raw read path's guard answers those (or cuts the connection once headers went out).
 */
export interface MirrorAccess {
  /**
   * Makes a mirror's cached page of `project` usable before a simple page is rendered: undefined
   * when it is fresh enough to serve at once (a stale page is refreshed in the background and
   * served meanwhile); a promise when nothing is cached yet and a fetch is needed first.
   */
  prepare(mirrorStage: string, project: string): Promise<PrepareOutcome> | PrepareOutcome | undefined;
  /** Serves a mirror release file not stored here yet (fetch, stream to the client while storing, verify). */
  serveFile(req: IncomingMessage, res: ServerResponse, mirrorStage: string, project: string, link: MirrorLink): Promise<void>;
  /** Serves the PEP 658 metadata of a mirror link not stored here yet. */
  serveMetadata(req: IncomingMessage, res: ServerResponse, mirrorStage: string, project: string, link: MirrorLink): Promise<void>;
  /** Serves a mirror's full project list (a mutable page stored in the file store). */
  serveList(req: IncomingMessage, res: ServerResponse, mirrorStage: string, format: SimpleFormat): Promise<void>;
}
