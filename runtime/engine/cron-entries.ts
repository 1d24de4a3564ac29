import { type SQL, sql } from 'drizzle-orm';
import type { JsonObject } from '../../sdk/job.js';
import type { Executor } from '../database/executor.js';
import { epochMs, toDate, toDateOrNull } from '../database/wire.js';
import type { EngineContext } from './context.js';
import type { StoredArgs } from './records.js';

/** The job options a stored cron entry gives each of its jobs, over its worker's defaults. */
export interface CronJobOptions {
  readonly queue?: string;
  readonly priority?: number;
  readonly maxAttempts?: number;
  readonly tags?: readonly string[];
  readonly meta?: JsonObject;
}

/** A cron entry as the `cron_entries` table holds it (see migrations/v005.ts). */
export interface StoredCronEntry {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string | null;
  readonly worker: string;
  /** The args in stored form: encoded, and sealed when the worker is encrypted. */
  readonly args: StoredArgs;
  readonly options: CronJobOptions;
  readonly paused: boolean;
  readonly guaranteed: boolean;
  /** The newest tick whose job was inserted. */
  readonly lastTick: Date | null;
  /** When the schedule last changed (insert, new expression or zone, resume). */
  readonly changedAt: Date;
  readonly insertedAt: Date;
  readonly updatedAt: Date;
}

/** What an insert of a cron entry writes. */
export type CronEntryRow = Omit<StoredCronEntry, 'lastTick' | 'changedAt' | 'insertedAt' | 'updatedAt'>;

/** What an update may change; a field left out keeps its value (`timezone: null` means UTC). */
export type CronEntryChange = Partial<Omit<CronEntryRow, 'name'>>;

interface CronWireRow {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string | null;
  readonly worker: string;
  readonly args: unknown;
  readonly options: CronJobOptions | null;
  readonly paused: boolean;
  readonly guaranteed: boolean;
  readonly lastTick: number | null;
  readonly changedAt: number;
  readonly insertedAt: number;
  readonly updatedAt: number;
}

const columns = sql.raw(
  [
    'c.name',
    'c.expression',
    'c.timezone',
    'c.worker',
    'c.args',
    'c.options',
    'c.paused',
    'c.guaranteed',
    `${epochMs('c.last_tick')} AS "lastTick"`,
    `${epochMs('c.changed_at')} AS "changedAt"`,
    `${epochMs('c.inserted_at')} AS "insertedAt"`,
    `${epochMs('c.updated_at')} AS "updatedAt"`,
  ].join(', '),
);

function toStoredCronEntry(row: CronWireRow): StoredCronEntry {
  return {
    name: row.name,
    expression: row.expression,
    timezone: row.timezone,
    worker: row.worker,
    args: row.args as StoredArgs,
    options: row.options ?? {},
    paused: row.paused,
    guaranteed: row.guaranteed,
    lastTick: toDateOrNull(row.lastTick),
    changedAt: toDate(row.changedAt),
    insertedAt: toDate(row.insertedAt),
    updatedAt: toDate(row.updatedAt),
  };
}

const table = (schema: string) => sql.raw(`${schema}.cron_entries`);

export async function listCronEntries({ database, schema }: EngineContext): Promise<StoredCronEntry[]> {
  const rows = await database.query<CronWireRow>(
    sql`SELECT ${columns} FROM ${table(schema)} c ORDER BY c.name`,
  );
  return rows.map(toStoredCronEntry);
}

/**
 * What changes whenever an entry is inserted, updated or deleted (not when a tick is claimed):
 * what a node that cannot LISTEN polls to learn that the stored entries changed.
 */
export async function cronFingerprint({ database, schema }: EngineContext): Promise<string> {
  const [row] = await database.query<{ fingerprint: string }>(sql`
    SELECT count(*)::text || ':' || coalesce((${sql.raw(epochMs('max(c.updated_at)'))})::text, '') AS fingerprint
    FROM ${table(schema)} c`);
  return row!.fingerprint;
}

/** Inserts an entry; null when an entry of that name exists (it is left as it is). */
export async function insertCronEntry(
  { database, schema }: EngineContext,
  entry: CronEntryRow,
): Promise<StoredCronEntry | null> {
  const rows = await database.query<CronWireRow>(sql`
    INSERT INTO ${table(schema)} AS c (name, expression, timezone, worker, args, options, paused, guaranteed)
    VALUES (${entry.name}, ${entry.expression}, ${entry.timezone}, ${entry.worker},
      ${JSON.stringify(entry.args)}::jsonb, ${JSON.stringify(entry.options)}::jsonb, ${entry.paused}, ${entry.guaranteed})
    ON CONFLICT (name) DO NOTHING
    RETURNING ${columns}`);
  return rows[0] ? toStoredCronEntry(rows[0]) : null;
}

/**
 * Changes the given fields of an entry; null when there is none. A new expression or time zone,
 * or a resume, moves `changed_at`: a guaranteed entry catches up no tick from before it.
 */
export async function updateCronEntry(
  { database, schema }: EngineContext,
  name: string,
  change: CronEntryChange,
): Promise<StoredCronEntry | null> {
  const sets: SQL[] = [];
  if (change.expression !== undefined) sets.push(sql`expression = ${change.expression}`);
  if (change.timezone !== undefined) sets.push(sql`timezone = ${change.timezone}`);
  if (change.worker !== undefined) sets.push(sql`worker = ${change.worker}`);
  if (change.args !== undefined) sets.push(sql`args = ${JSON.stringify(change.args)}::jsonb`);
  if (change.options !== undefined) sets.push(sql`options = ${JSON.stringify(change.options)}::jsonb`);
  if (change.paused !== undefined) sets.push(sql`paused = ${change.paused}`);
  if (change.guaranteed !== undefined) sets.push(sql`guaranteed = ${change.guaranteed}`);
  const reschedules = change.expression !== undefined || change.timezone !== undefined;
  const resumes = change.paused === false;
  const changedAt = reschedules
    ? sql`now()`
    : resumes
      ? sql`CASE WHEN c.paused THEN now() ELSE c.changed_at END`
      : sql`c.changed_at`;
  const rows = await database.query<CronWireRow>(sql`
    UPDATE ${table(schema)} c SET ${sql.join([...sets, sql`changed_at = ${changedAt}`, sql`updated_at = now()`], sql`, `)}
    WHERE c.name = ${name}
    RETURNING ${columns}`);
  return rows[0] ? toStoredCronEntry(rows[0]) : null;
}

export async function deleteCronEntry({ database, schema }: EngineContext, name: string): Promise<boolean> {
  const rows = await database.query<{ name: string }>(
    sql`DELETE FROM ${table(schema)} c WHERE c.name = ${name} RETURNING c.name`,
  );
  return rows.length > 0;
}

/**
 * Claims `tick` of an entry, in the transaction that inserts its job: moves `last_tick` forward
 * under the row's lock when the entry is running and has not reached that tick. A node whose
 * claim waited for another's sees the tick taken once that commits. Returns whether it won.
 */
export async function claimCronTick(
  { database, schema }: EngineContext,
  name: string,
  tick: Date,
  tx: Executor,
): Promise<boolean> {
  const rows = await database.query<{ name: string }>(
    sql`
      UPDATE ${table(schema)} c SET last_tick = ${tick.toISOString()}::timestamptz
      WHERE c.name = ${name} AND NOT c.paused
        AND (c.last_tick IS NULL OR c.last_tick < ${tick.toISOString()}::timestamptz)
      RETURNING c.name`,
    tx,
  );
  return rows.length > 0;
}
