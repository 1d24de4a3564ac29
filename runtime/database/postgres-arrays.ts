import type postgres from 'postgres';

/**
 * Array types for postgres.js without its `fetch_types` catalog query.
 *
 * By default postgres.js runs a `pg_type` query as the first statement of every new connection
 * to learn the array types, and drops that query's promise: when the connection is terminated
 * during it (a restart, a failover, `pg_terminate_backend`), the rejection is unhandled and
 * kills the process (porsager/postgres #1192, #1205, #1223). Koban turns the fetch off and
 * installs the few built-in array types it uses instead; their OIDs are fixed in every
 * PostgreSQL version.
 */

type Parse = (text: string) => unknown;

const asText: Parse = (text) => text;
const asNumber: Parse = (text) => Number(text);
const asBoolean: Parse = (text) => text === 't';

/** Built-in array OID → how to read one element. int8 stays a string, as postgres.js reads int8. */
const arrayTypes: ReadonlyMap<number, Parse> = new Map([
  [1009, asText], // text[]
  [1015, asText], // varchar[]
  [1016, asText], // int8[]
  [1007, asNumber], // int4[]
  [1005, asNumber], // int2[]
  [1000, asBoolean], // bool[]
  [2951, asText], // uuid[]
  [3807, (text) => JSON.parse(text)], // jsonb[]
  [199, (text) => JSON.parse(text)], // json[]
]);

/** The `types` option of a client Koban opens: its array types without a catalog query. */
export function arrayTypeOptions(): Record<string, postgres.PostgresType> {
  return Object.fromEntries(
    [...arrayTypes].map(([oid, element]) => [
      `koban_array_${oid}`,
      { to: oid, from: [oid], serialize: serializeArray, parse: (text: string) => parseArray(text, element) },
    ]),
  );
}

/**
 * Adds the array types to a client the application gave, where it has none of its own (a client
 * made with `fetch_types: false`); types the client fetched or defined are left alone.
 */
export function installArrayTypes(client: postgres.Sql): void {
  const { parsers, serializers } = client.options as unknown as {
    parsers: Record<number, unknown>;
    serializers: Record<number, unknown>;
  };
  for (const [oid, element] of arrayTypes) {
    parsers[oid] ??= (text: string) => parseArray(text, element);
    serializers[oid] ??= serializeArray;
  }
}

/** A JS array as a PostgreSQL array literal; every element quoted, null as NULL. */
export function serializeArray(value: unknown): string {
  if (!Array.isArray(value)) return String(value);
  return `{${value.map(serializeElement).join(',')}}`;
}

function serializeElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return serializeArray(value);
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** Reads a PostgreSQL array literal (any number of dimensions) into nested JS arrays. */
export function parseArray(text: string, element: Parse = asText): unknown[] {
  // `[0:2]={...}`: explicit bounds, shown only when the lower bound is not 1.
  const start = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const state = { text, at: start };
  return readArray(state, element);
}

function readArray(state: { text: string; at: number }, element: Parse): unknown[] {
  const { text } = state;
  const items: unknown[] = [];
  state.at++; // '{'
  while (state.at < text.length) {
    const char = text[state.at];
    if (char === '}') {
      state.at++;
      return items;
    }
    if (char === ',') {
      state.at++;
    } else if (char === '{') {
      items.push(readArray(state, element));
    } else if (char === '"') {
      items.push(element(readQuoted(state)));
    } else {
      let end = state.at;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
      const value = text.slice(state.at, end);
      state.at = end;
      items.push(value === 'NULL' ? null : element(value));
    }
  }
  return items;
}

/** A quoted element: copies the runs between backslash escapes in slices, not char by char. */
function readQuoted(state: { text: string; at: number }): string {
  const { text } = state;
  let value = '';
  let from = state.at + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    const backslash = text.indexOf('\\', from);
    if (backslash !== -1 && backslash < quote) {
      value += text.slice(from, backslash) + text.charAt(backslash + 1);
      from = backslash + 2;
      continue;
    }
    const end = quote === -1 ? text.length : quote;
    value += text.slice(from, end);
    state.at = end + 1;
    return value;
  }
}
