/**
 * Parsing of setting values given as text (a flag, an environment variable, a string in the config
 * file): sizes in bytes, durations in ms, integers, booleans and lists. Each parser returns the value
 * or throws a ValueError saying what the text should look like; the schema checks ranges afterwards.
 */

/** A text that is not a value of the expected kind; `message` completes "--flag …" (e.g. "must be a size …, not 'x'"). */
export class ValueError extends Error {}

/** The value kinds a setting can have (see {@link parseValue}). */
export type ValueKind = 'string' | 'integer' | 'size' | 'duration' | 'boolean' | 'list';

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `number × unit` as a whole number, or undefined when it is not one (0.3 ms, 1.5 B). */
function whole(amount: number, unit: number): number | undefined {
  const value = amount * unit;
  const rounded = Math.round(value);
  return Math.abs(value - rounded) < 1e-6 && Number.isSafeInteger(rounded) ? rounded : undefined;
}

function quantity(text: string, units: Record<string, number>): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ? units[m[2].toLowerCase()] : 1;
  return unit === undefined ? undefined : whole(Number(m[1]), unit);
}

/**
 * A size in bytes: a whole number of bytes (`1048576`) or a number with a unit — SI `kB MB GB TB`
 * (powers of 1,000) or IEC `KiB MiB GiB TiB` (powers of 1,024), case-insensitive (`512MiB`, `1.5 GB`).
 * Throws ValueError.
 */
export function parseSize(text: string): number {
  const bytes = quantity(text, SIZE_UNITS);
  if (bytes === undefined) throw new ValueError(`must be a size in bytes (1048576, 512MiB, 1GiB, 2GB), not '${text}'`);
  return bytes;
}

/** Bytes as the largest IEC unit that divides them (`1GiB`, `512MiB`), else plain bytes — for help texts. */
export function formatSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const size = SIZE_UNITS[unit.toLowerCase()]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** A duration in ms: whole ms (`5000`) or a number with a unit `ms s m min h` (`500ms`, `2.5s`, `1m`). Throws ValueError. */
export function parseDuration(text: string): number {
  const ms = quantity(text, DURATION_UNITS);
  if (ms === undefined) throw new ValueError(`must be a duration (5000 for ms, or 500ms, 5s, 2m, 1h), not '${text}'`);
  return ms;
}

/** A whole number written in decimal digits. Throws ValueError. */
export function parseInteger(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ValueError(`must be a whole number, not '${text}'`);
  return Number(text.trim());
}

/** `true`/`1`/`yes` or `false`/`0`/`no` (case-insensitive). Throws ValueError. */
export function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  throw new ValueError(`must be true or false, not '${text}'`);
}

/** A comma- or space-separated list (an environment variable holding several URLs). */
export function parseList(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}

/**
 * Converts a raw value to `kind`: strings are parsed (above); numbers, booleans and arrays (from
 * the JSON config file or commander) pass through for the schema to check. Throws ValueError.
 */
export function parseValue(kind: ValueKind, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  switch (kind) {
    case 'integer':
      return parseInteger(raw);
    case 'size':
      return parseSize(raw);
    case 'duration':
      return parseDuration(raw);
    case 'boolean':
      return parseBoolean(raw);
    case 'list':
      return parseList(raw);
    case 'string':
      return raw;
  }
}
