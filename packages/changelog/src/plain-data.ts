/**
 * The values the changelog stores: plain, msgpack-encodable data — null, booleans, numbers,
 * strings, arrays and plain objects, nested. Everything else (undefined inside arrays, Date, Map,
 * Set, bigint, binary buffers, class instances, functions, a `__proto__` key) is refused, so that a
 * value decodes to exactly what was set and encodes to the same bytes on every store.
 */

/** A plain-data value as stored in the changelog. */
export type PlainData = null | boolean | number | string | readonly PlainData[] | { readonly [key: string]: PlainData };

/**
 * Copy `value` into canonical, deep-frozen plain data: object keys sorted, properties whose value
 * is undefined dropped (as JSON does), -0 turned into 0. The input is not modified.
 * Throws TypeError naming the offending path when the value is not plain data.
 */
export function toPlainData(value: unknown, path = '$'): PlainData {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Object.is(value, -0) ? 0 : value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const out: PlainData[] = [];
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw new TypeError(`${path}[${i}] is undefined; arrays must hold plain data`);
          out.push(toPlainData(item, `${path}[${i}]`));
        }
        return Object.freeze(out);
      }
      assertPlainObject(value, path);
      const out: Record<string, PlainData> = {};
      for (const key of Object.keys(value).sort()) {
        if (key === '__proto__') throw new TypeError(`${path} has a "__proto__" key, which cannot be stored`);
        const item: unknown = (value as Record<string, unknown>)[key];
        if (item !== undefined) out[key] = toPlainData(item, `${path}.${key}`);
      }
      return Object.freeze(out);
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}; only plain data can be stored`);
  }
}

/**
 * Check that a freshly decoded `value` is plain data and deep-freeze it in place (no copy).
 * Returns the same value. Throws TypeError naming the offending path otherwise.
 */
export function freezePlainData(value: unknown, path = '$'): PlainData {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw new TypeError(`${path}[${i}] is undefined`);
          freezePlainData(value[i], `${path}[${i}]`);
        }
        return Object.freeze(value) as PlainData;
      }
      assertPlainObject(value, path);
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) throw new TypeError(`${path}.${key} is undefined`);
        freezePlainData(item, `${path}.${key}`);
      }
      return Object.freeze(value) as PlainData;
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}; only plain data can be stored`);
  }
}

function assertPlainObject(value: object, path: string): void {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    throw new TypeError(`${path} is a ${typeof name === 'string' ? name : 'non-plain object'}; only plain objects can be stored`);
  }
}
