/**
 * Read-your-writes routing as functions over plain data. The proxy keeps the highest serial a
 * write answer carried (`X-Devpi-Serial`), per master store UUID (`X-Devpi-Master-UUID`): serials
 * of different masters do not compare, so a new UUID (the master was imported or upgraded) starts
 * the count over. A read then goes only to a backend known to have reached that serial in that
 * UUID; the master always qualifies (it has the newest serial).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { firstValue } from './forward-headers.js';

/** The highest serial seen and the master store UUID it counts in (`''`: unknown). */
export interface SerialMark {
  /** A changelog serial; -1 when none was seen. */
  readonly serial: number;
  readonly masterUuid: string;
}

/** Nothing seen yet: every backend qualifies for reads. */
export const NO_SERIAL: SerialMark = { serial: -1, masterUuid: '' };

/**
 * The mark after seeing `serial` in `masterUuid`: a non-integer serial (header missing) changes
 * nothing, a different non-empty UUID restarts the count at `serial`, otherwise the higher serial
 * wins. Pure; returns `mark` itself when nothing changes.
 */
export function advanceMark(mark: SerialMark, serial: number, masterUuid = ''): SerialMark {
  if (!Number.isSafeInteger(serial)) return mark;
  if (masterUuid && masterUuid !== mark.masterUuid) return { serial, masterUuid };
  return serial > mark.serial ? { serial, masterUuid: mark.masterUuid } : mark;
}

/**
 * The write mark after a write's answer: only successful answers (status < 400) that carry a
 * serial count — a refused upload committed nothing. Pure.
 */
export function advanceWriteMark(mark: SerialMark, status: number, seen: { serial: number; masterUuid: string }): SerialMark {
  return status < 400 ? advanceMark(mark, seen.serial, seen.masterUuid) : mark;
}

/**
 * The serial and master UUID a node's answer carries (`X-Devpi-Serial`, `X-Devpi-Master-UUID`);
 * `serial` is NaN when the header is missing or not a number, `masterUuid` `''` when missing.
 */
export function serialFromHeaders(headers: IncomingHttpHeaders): { serial: number; masterUuid: string } {
  return { serial: Number(firstValue(headers['x-devpi-serial'])), masterUuid: firstValue(headers['x-devpi-master-uuid']) ?? '' };
}

/**
 * Whether a backend may serve a read that must see `required`: the master always; a replica when
 * nothing is required, or when it has reached the serial in the same master UUID (an unknown
 * required UUID compares the serial only).
 */
export function mayServeRead(b: { readonly role: 'master' | 'replica'; readonly serial: number; readonly masterUuid: string }, required: SerialMark): boolean {
  if (b.role === 'master' || required.serial < 0) return true;
  return b.serial >= required.serial && (required.masterUuid === '' || b.masterUuid === required.masterUuid);
}

/** A positive epoch in an `X-Wheelhouse-Epoch` header, else undefined. */
export function parseEpochHeader(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 ? n : undefined;
}
