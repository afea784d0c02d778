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

interface HeaderMemo {
  uuid: string;
  serial: number;
  master: string;
  epoch: number | undefined;
  role: string;
  list: readonly string[];
}

const memos = new WeakMap<NodeInfo, HeaderMemo>();

/**
 * The same headers as {@link setNodeHeaders}, as a flat `[name, value, …]` list for
 * `res.writeHead(status, list)` — the hot read path's cheapest way to send headers. The list is
 * built once per state of the node (UUID, serial, master UUID, epoch, role) and the same array returned
 * until one of them changes (so callers may cache what they build from it by identity): read-only,
 * copy it to add headers.
 */
export function nodeHeaderList(node: NodeInfo): readonly string[] {
  const serial = node.serial();
  const master = node.masterUuid();
  const epoch = node.epoch?.();
  const role = announcedRole(node);
  const memo = memos.get(node);
  if (memo && memo.serial === serial && memo.uuid === node.uuid && memo.master === master && memo.epoch === epoch && memo.role === role) return memo.list;
  const list = [
    'X-Devpi-Serial', String(serial),
    'X-Devpi-UUID', node.uuid,
    'X-Devpi-Master-UUID', master,
    'X-Devpi-Primary-UUID', master,
    'X-Devpi-API-Version', '2',
    'X-Devpi-Server-Version', SERVER_VERSION,
  ];
  if (epoch !== undefined) list.push(EPOCH_HEADER, String(epoch), ROLE_HEADER, role);
  memos.set(node, { uuid: node.uuid, serial, master, epoch, role, list });
  return list;
}
