import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArray, serializeArray } from '../../runtime/database/postgres-arrays.js';
import { openPostgresClient } from '../../runtime/database/postgres-client.js';
import { adminUrl } from '../support/databases.js';

// Koban's client skips postgres.js's per-connection type fetch (it crashed the process when the
// connection died during it) and brings its own array types: they must round-trip what the
// fetched ones did.

let sql: postgres.Sql;
beforeAll(() => {
  sql = openPostgresClient(adminUrl(), {
    poolSize: 1,
    connectTimeout: 10_000,
    reconnectDelay: 500,
    password: undefined,
  });
});
afterAll(() => sql.end({ timeout: 1 }));

const awkward = [
  '',
  'plain',
  'NULL',
  'with "quotes"',
  'back\\slash',
  'a,b',
  '{braces}',
  ' spaced ',
  'é ✓ 🎉',
  'new\nline',
];

describe('array types without fetch_types', () => {
  it('round-trips text[] parameters and results, awkward strings and nulls included', async () => {
    const [row] = await sql.unsafe('SELECT $1::text[] AS a, cardinality($1::text[]) AS n', [
      [...awkward, null] as never,
    ]);
    expect(row!.a).toEqual([...awkward, null]);
    expect(row!.n).toBe(awkward.length + 1);
  });

  it('reads jsonb[], int8[], int4[], int2[] and bool[] columns as arrays of values', async () => {
    const [row] = await sql.unsafe(`
      SELECT ARRAY['{"a": "x\\"y"}'::jsonb, '[1, null]'::jsonb, 'null'::jsonb] AS j,
             ARRAY[9007199254740993, -1]::int8[] AS big, ARRAY[1, NULL, 3]::int4[] AS ints,
             ARRAY[2]::int2[] AS small, ARRAY[true, false]::bool[] AS flags,
             '{}'::text[] AS empty, ARRAY[ARRAY['a', 'b'], ARRAY['c', 'd']] AS nested`);
    expect(row).toEqual({
      j: [{ a: 'x"y' }, [1, null], null],
      big: ['9007199254740993', '-1'],
      ints: [1, null, 3],
      small: [2],
      flags: [true, false],
      empty: [],
      nested: [
        ['a', 'b'],
        ['c', 'd'],
      ],
    });
  });

  it('takes bigint[] and int[] parameters as Koban sends them', async () => {
    const [row] = await sql.unsafe('SELECT $1::bigint[] AS ids, $2::int[] AS attempts', [
      ['1', '9007199254740993'] as never,
      [1, 2] as never,
    ]);
    expect(row).toEqual({ ids: ['1', '9007199254740993'], attempts: [1, 2] });
  });

  it('takes uuid[] and smallint[] parameters, all null included, as the workflow and batch columns need', async () => {
    const id = '0190e1b4-0000-7000-8000-000000000001';
    const [row] = await sql.unsafe('SELECT $1::uuid[] AS ids, $2::uuid[] AS none, $3::smallint[] AS bits', [
      [id, null] as never,
      [null, null] as never,
      [1, 2] as never,
    ]);
    expect(row).toEqual({ ids: [id, null], none: [null, null], bits: [1, 2] });
  });

  it('parses and writes literals without a server', () => {
    expect(serializeArray(['a"b', null, 'c\\d'])).toBe('{"a\\"b",NULL,"c\\\\d"}');
    expect(parseArray('[0:1]={x,y}')).toEqual(['x', 'y']);
    expect(parseArray('{"",NULL,"NULL"}')).toEqual(['', null, 'NULL']);
  });
});
