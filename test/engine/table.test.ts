import { getTableColumns } from 'drizzle-orm';
import {
  getTableConfig,
  getViewConfig,
  isPgView,
  type PgColumn,
  type PgTable,
  type PgView,
} from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kobanTables } from '../../runtime/engine/tables.js';
import { freshDatabase } from '../support/databases.js';

// The Drizzle tables are the one definition of Koban's rows in code: the engine builds its
// select lists from them, and applications query them. This checks them against the tables the
// migrations create, column by column.

let sql: postgres.Sql;

beforeAll(async () => {
  sql = postgres(await freshDatabase(), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
});

interface DatabaseColumn {
  column_name: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
}

/** Drizzle's SQL type names, as information_schema spells them. */
function udtOf(type: string): string {
  const base = type.replace(/\[\]$/, '');
  const names: Record<string, string> = {
    bigserial: 'int8',
    bigint: 'int8',
    integer: 'int4',
    smallint: 'int2',
    'timestamp with time zone': 'timestamptz',
    boolean: 'bool',
    'double precision': 'float8',
  };
  const name = names[base] ?? base;
  return type.endsWith('[]') ? `_${name}` : name;
}

describe('the Drizzle tables', () => {
  const tables = kobanTables('koban');
  for (const [name, table] of Object.entries(tables) as [string, PgTable | PgView][]) {
    it(`match the migrated ${name} table`, async () => {
      // A view (allJobs) has its columns as selected fields; nullability is not a view's own.
      const view = isPgView(table) ? getViewConfig(table) : undefined;
      const relation = view?.name ?? getTableConfig(table as PgTable).name;
      const columns = view
        ? (Object.values(view.selectedFields) as PgColumn[])
        : Object.values(getTableColumns(table as PgTable));
      const rows = await sql<DatabaseColumn[]>`
        SELECT column_name, udt_name, ${view ? sql`'YES'` : sql`is_nullable`} AS is_nullable
        FROM information_schema.columns
        WHERE table_schema = 'koban' AND table_name = ${relation} ORDER BY column_name`;
      const expected = columns
        .map((column) => ({
          column_name: column.name,
          udt_name: udtOf(column.getSQLType()),
          is_nullable: column.notNull && !view ? 'NO' : 'YES',
        }))
        .sort((a, b) => a.column_name.localeCompare(b.column_name));
      expect(rows).toEqual(expected);
    });
  }
});
