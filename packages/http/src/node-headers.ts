/**
 * What every response says about the node that answers it: devpi's headers (§1.1 of the devpi
 * reference) so devpi-client and devpi tooling keep working.
 */
import type { ServerResponse } from 'node:http';

/** The running server's version (sent as `X-Devpi-Server-Version`). */
export const SERVER_VERSION = '0.1.0';

/** Identity of a node. */
export interface NodeInfo {
  role: 'master' | 'replica';
  /** This node's store UUID. */
  uuid: string;
  /** The master's store UUID ('' on a replica that has not met its master yet). */
  masterUuid(): string;
  /** Current head serial of this node's changelog. */
  serial(): number;
  /** The epoch this node's changelog is in (`X-Wheelhouse-Epoch`); absent: not sent. */
  epoch?(): number;
  /** True while this master is fenced (`X-Wheelhouse-Role: fenced`). */
  fenced?(): boolean;
}

/** Response header: the epoch the answering node is in; request header: the highest epoch the sender has seen. */
export const EPOCH_HEADER = 'X-Wheelhouse-Epoch';
/** Response header: `master`, `replica` or `fenced` (a master whose term is over). */
export const ROLE_HEADER = 'X-Wheelhouse-Role';

/** The role a node announces in {@link ROLE_HEADER}. */
export function announcedRole(node: NodeInfo): 'master' | 'replica' | 'fenced' {
  return node.fenced?.() ? 'fenced' : node.role;
}

/**
 * Sets `X-Devpi-Serial`, `X-Devpi-UUID`, `X-Devpi-Master-UUID`, `X-Devpi-Primary-UUID`,
 * `X-Devpi-API-Version: 2` and `X-Devpi-Server-Version`. `serial` overrides the head (a write's
 * commit serial).
 */
export function setNodeHeaders(res: ServerResponse, node: NodeInfo, serial?: number): void {
  const master = node.masterUuid();
  res.setHeader('X-Devpi-Serial', String(serial ?? node.serial()));
  res.setHeader('X-Devpi-UUID', node.uuid);
  res.setHeader('X-Devpi-Master-UUID', master);
  res.setHeader('X-Devpi-Primary-UUID', master);
  res.setHeader('X-Devpi-API-Version', '2');
  res.setHeader('X-Devpi-Server-Version', SERVER_VERSION);
  if (node.epoch) {
    res.setHeader(EPOCH_HEADER, String(node.epoch()));
    res.setHeader(ROLE_HEADER, announcedRole(node));
  }
}

/**
 * The same headers as {@link setNodeHeaders}, as a flat `[name, value, …]` list for
 * `res.writeHead(status, list)` — the hot read path's cheapest way to send headers.
 */
export function nodeHeaderList(node: NodeInfo): string[] {
  const master = node.masterUuid();
  const list = [
    'X-Devpi-Serial', String(node.serial()),
    'X-Devpi-UUID', node.uuid,
    'X-Devpi-Master-UUID', master,
    'X-Devpi-Primary-UUID', master,
    'X-Devpi-API-Version', '2',
    'X-Devpi-Server-Version', SERVER_VERSION,
  ];
  if (node.epoch) list.push(EPOCH_HEADER, String(node.epoch()), ROLE_HEADER, announcedRole(node));
  return list;
}
