import { KobanValidationError } from '../../sdk/errors.js';

/** The default of `maxArgsBytes`: args as JSON, in UTF-8 bytes. */
export const defaultMaxArgsBytes = 8 * 1024 * 1024;

/**
 * Refuses args larger than `limit` bytes as JSON, before they are checked, encoded or sent: at
 * a gigabyte, JSON.stringify failed with `Invalid string length` after seconds, and a few hundred
 * megabytes reached the server before it refused them (54000). A walk that stops past the limit
 * finds the size's lower bound at once; only args near the limit are serialized to be measured.
 */
export function checkArgsSize(args: unknown, limit: number, worker: string): void {
  const least = leastJsonLength(args, limit);
  // JSON text takes at most 6 bytes (a \uXXXX escape) per unit the walk counts.
  const size = least > limit ? least : least * 6 > limit ? exactJsonBytes(args) : least;
  if (size > limit) {
    const shown = least > limit ? `more than ${limit}` : String(size);
    throw new KobanValidationError(
      [
        {
          path: 'args',
          message: `${shown} bytes as JSON, over the limit of ${limit} bytes (maxArgsBytes in Koban.start); store large data elsewhere and pass a reference`,
        },
      ],
      worker,
    );
  }
}

/**
 * At least how many characters the JSON text of `value` has (every character is at least one
 * UTF-8 byte), counted without building it; the count stops once it passes `limit`. An object
 * met twice counts twice, as JSON.stringify writes it twice; a circular reference is left to the
 * JSON check, which names it.
 */
function leastJsonLength(value: unknown, limit: number): number {
  let total = 0;
  const ancestors = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const item = stack.pop();
    if (typeof item === 'string') total += item.length + 2;
    else if (item instanceof Leave) ancestors.delete(item.object);
    else if (typeof item !== 'object' || item === null) total += 1;
    else if (!ancestors.has(item)) {
      ancestors.add(item);
      stack.push(new Leave(item));
      total += 2;
      if (Array.isArray(item)) {
        total += item.length;
        for (const child of item) stack.push(child);
      } else {
        for (const key in item) {
          if (!Object.hasOwn(item, key)) continue;
          total += key.length + 4;
          stack.push((item as Record<string, unknown>)[key]);
        }
      }
    }
  }
  return total;
}

/** Marks the end of an object's children in the walk above. */
class Leave {
  constructor(readonly object: object) {}
}

/** The exact size, or 0 when the value is not JSON (the JSON check names what is wrong). */
function exactJsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return 0;
  }
}
