import { type SQL, sql } from 'drizzle-orm';

// How values cross the wire in a form every client reads and writes alike: postgres.js with any
// options (with or without `fetch_types`, with Drizzle's parsers or not), PGlite, and
// node-postgres through Drizzle. No Koban statement depends on a type registered on the client:
// - lists go as ONE text parameter cast on the server (`'{1,2}'::text::bigint[]`), so a client
//   without array serializers sends them as it sends any string;
// - ids come back as text, times as epoch milliseconds (float8), arrays as JSON: the types
//   whose parsing every client agrees on.

/** The element types Koban sends lists of. */
export type ListType = 'bigint' | 'int' | 'smallint' | 'text' | 'uuid' | 'float8';

type Element = string | number | boolean | null | undefined;

/** A list parameter: `values` as a `type[]`, sent as one text value. */
export function list(values: readonly Element[], type: ListType): SQL {
  return sql`${arrayLiteral(values)}::text::${sql.raw(type)}[]`;
}

const needsEscape = /["\\]/;

/** A PostgreSQL array literal; strings quoted and escaped, null and undefined as NULL. */
export function arrayLiteral(values: readonly Element[]): string {
  let text = '{';
  for (let index = 0; index < values.length; index++) {
    if (index > 0) text += ',';
    const value = values[index];
    if (value === null || value === undefined) text += 'NULL';
    else if (typeof value === 'string')
      text += `"${needsEscape.test(value) ? value.replace(/["\\]/g, '\\$&') : value}"`;
    else text += String(value);
  }
  return `${text}}`;
}

/** A select expression for a timestamptz column as epoch milliseconds (date_part gives float8). */
export function epochMs(column: string): string {
  return `date_part('epoch', ${column}) * 1000`;
}

export function toDate(ms: number): Date {
  return new Date(ms);
}

export function toDateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
