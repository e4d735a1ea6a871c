/**
 * DynamoDB item sizes, computed the way DynamoDB counts them against its 400 KB item limit:
 * attribute names and string values by UTF-8 bytes, numbers by significant digits (about one
 * byte per two, plus one), binary by bytes, booleans and null one byte, and a list or map 3
 * bytes plus one per element besides its content. Used to decide when an item must be split or
 * compressed before DynamoDB would refuse it, and by the tests that bound the items' growth.
 */

/** DynamoDB's item size limit, in bytes (400 KB, as DynamoDB counts KB). */
export const MAX_ITEM_BYTES = 400 * 1024;

/** The size DynamoDB counts for an item as the document client sends it (undefined attributes are dropped). */
export function itemSizeBytes(item: Readonly<Record<string, unknown>>): number {
  return Object.entries(item).reduce((total, [name, value]) => (value === undefined ? total : total + utf8Bytes(name) + attributeSizeBytes(value)), 0);
}

/** The size DynamoDB counts for one attribute value (without its name). */
export function attributeSizeBytes(value: unknown): number {
  return valueSize(value);
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function numberSize(value: number | bigint): number {
  const significant = String(value).replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(significant.length, 1) / 2) + 1;
}

function valueSize(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...(value as Set<unknown>)].reduce<number>((total, element) => total + valueSize(element), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((total, element) => total + 1 + valueSize(element), 0);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined);
    return 3 + entries.reduce((total, [name, field]) => total + 1 + utf8Bytes(name) + valueSize(field), 0);
  }
  throw new TypeError(`no DynamoDB size for a ${typeof value}`);
}
