import { type SQL, sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import { historyColumns } from './history-columns.js';
import { finalStatesText } from './state-sql.js';

// Finished jobs live in `job_history`, partitioned by the UTC day they finished (see
// migrations/v004.ts). This file keeps the statements that know its layout: the move of a
// completion in the ack's own statement, the day partitions, the online move of rows finished
// before the table existed, and pruning by dropping days.

const columnList = historyColumns.join(', ');

/** Where finished and unfinished jobs are read together: the view over both tables. */
export function allJobs(schema: string): SQL {
  return sql.raw(`${schema}.all_jobs`);
}

/**
 * The INSERT that moves rows just deleted from `jobs` (the CTE `source`, returning `j.*`) into
 * the history as `state`, with `set` overriding columns (SQL, by column name). Returns the
 * statement's tail for the caller's RETURNING, on the history row aliased `j`.
 */
export function insertHistory(
  schema: string,
  source: string,
  state: string,
  set: Partial<Record<(typeof historyColumns)[number], string>>,
  returning: SQL = sql``,
): SQL {
  const values = historyColumns.map((column) => set[column] ?? (column === 'state' ? state : `d.${column}`));
  const finished = set.completed_at ?? set.discarded_at ?? set.cancelled_at ?? 'now()';
  return sql`
    INSERT INTO ${sql.raw(schema)}.job_history AS j (${sql.raw(columnList)}, finished_at)
    SELECT ${sql.raw(values.join(', '))}, ${sql.raw(finished)} FROM ${sql.raw(source)} d
    ${returning}`;
}

/** The name of the history partition of a UTC day. */
export function partitionName(day: Date): string {
  return `job_history_${day.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

const dayMs = 86_400_000;

/** The UTC day of a partition named by `partitionName`; undefined for the default partition. */
function dayOfPartition(name: string): Date | undefined {
  const match = /^job_history_(\d{4})(\d{2})(\d{2})$/.exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
}

function utcDay(at: number): Date {
  return new Date(Math.floor(at / dayMs) * dayMs);
}

/**
 * Makes sure the history has a partition for today and the next `daysAhead` days (UTC), by the
 * database's clock. A day whose rows went to the default partition already (while no partition
 * existed) is left there: a partition for it cannot be attached, and pruning deletes those rows.
 */
export async function ensurePartitions({ database, schema }: EngineContext, daysAhead = 3): Promise<void> {
  const [clock] = await database.query<{ now: number }>(sql`SELECT date_part('epoch', now()) * 1000 AS now`);
  const today = utcDay(clock!.now);
  const days = Array.from(
    { length: daysAhead + 1 },
    (_, offset) => new Date(today.getTime() + offset * dayMs),
  );
  // Only the missing days are created: IF NOT EXISTS would raise a NOTICE per existing day on
  // every run, which an application's client prints.
  const existing = await database.query<{ name: string }>(sql`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ANY(${list(days.map(partitionName), 'text')})`);
  const present = new Set(existing.map((row) => row.name));
  for (const from of days) {
    const name = partitionName(from);
    if (present.has(name)) continue;
    const to = new Date(from.getTime() + dayMs);
    try {
      await database.query(
        sql.raw(
          `CREATE TABLE ${schema}.${name} PARTITION OF ${schema}.job_history ` +
            `FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
        ),
      );
    } catch (error) {
      // 23514: rows of that day are in the default partition; 42P07: created meanwhile elsewhere.
      // 42501: a role with only read and write rights may not create partitions; the day's rows
      // go to the default partition until a node whose role owns the schema creates them.
      const code = (error as { code?: string }).code;
      if (code === '42501') return;
      if (code !== '23514' && code !== '42P07' && code !== '23505') throw error;
    }
  }
}

/** Partitions ahead, then the move of up to `moveLimit` finished rows still in `jobs`. */
export async function maintainHistory(
  ctx: EngineContext,
  daysAhead: number,
  moveLimit: number,
): Promise<number> {
  await ensurePartitions(ctx, daysAhead);
  return moveLimit > 0 ? moveFinished(ctx, moveLimit) : 0;
}

/**
 * Moves up to `limit` finished jobs that are still in `jobs` (finished before the history
 * existed, or by a node of an older version) to the history; returns how many. Rows whose unique
 * key still guards stay. Locked rows are skipped: a command working on them moves them itself.
 */
export async function moveFinished({ database, schema }: EngineContext, limit: number): Promise<number> {
  const s = sql.raw(schema);
  const rows = await database.query<{ moved: number }>(sql`
    WITH old AS MATERIALIZED (
      SELECT id FROM ${s}.jobs
      WHERE state IN ${sql.raw(finalStatesText)} AND unique_active IS NULL
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM ${s}.jobs j WHERE j.id = ANY(ARRAY(SELECT id FROM old)) RETURNING j.*
    ), moved AS (
      INSERT INTO ${s}.job_history (${sql.raw(columnList)}, finished_at)
      SELECT ${sql.raw(historyColumns.map((column) => `g.${column}`).join(', '))},
        coalesce(g.completed_at, g.cancelled_at, g.discarded_at, now())
      FROM gone g
      RETURNING 1
    )
    SELECT count(*)::int AS moved FROM moved`);
  return rows[0]?.moved ?? 0;
}

/** How long a prune waits for the lock a partition drop needs before it tries again next time. */
const dropLockTimeout = '200ms';

/**
 * Prunes finished jobs older than `maxAgeSeconds`: whole days of the history are dropped (with
 * the workflow edges of their steps), and at most `limit` rows deleted one by one from the
 * default partition and from `jobs` (finished jobs that still guard a unique key). A day whose
 * drop cannot take its lock at once (a long transaction reads it) is dropped on a later run.
 * Returns how many jobs were pruned.
 */
export async function pruneHistory(
  ctx: EngineContext,
  maxAgeSeconds: number,
  limit: number,
): Promise<number> {
  const { database, schema } = ctx;
  const s = sql.raw(schema);
  const [clock] = await database.query<{ cutoff: number }>(
    sql`SELECT date_part('epoch', now() - ${maxAgeSeconds} * interval '1 second') * 1000 AS cutoff`,
  );
  const cutoff = clock!.cutoff;
  let pruned = 0;
  const partitions = await database.query<{ name: string }>(sql`
    SELECT c.relname AS name
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = ${schema} AND p.relname = 'job_history'`);
  for (const { name } of partitions) {
    const day = dayOfPartition(name);
    // A day's partition holds jobs that finished before its end: drop it once that is old enough.
    if (day === undefined || day.getTime() + dayMs > cutoff) continue;
    pruned += await dropPartition(ctx, name);
  }
  const age = sql`now() - ${maxAgeSeconds} * interval '1 second'`;
  const rows = await database.query<{ pruned: number }>(sql`
    WITH old AS MATERIALIZED (
      SELECT id FROM ${s}.job_history_default WHERE finished_at < ${age} LIMIT ${limit}
    ), pruned AS (
      DELETE FROM ${s}.job_history_default h WHERE h.id = ANY(ARRAY(SELECT id FROM old)) AND h.finished_at < ${age}
      RETURNING h.id, h.workflow_id
    ), guarded AS MATERIALIZED (
      SELECT id FROM ${s}.jobs
      WHERE state IN ${sql.raw(finalStatesText)} AND coalesce(completed_at, cancelled_at, discarded_at) < ${age}
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), pruned_guarded AS (
      DELETE FROM ${s}.jobs WHERE id = ANY(ARRAY(SELECT id FROM guarded)) RETURNING id, workflow_id
    ), edges AS (
      DELETE FROM ${s}.workflow_deps e
      USING (SELECT * FROM pruned UNION ALL SELECT * FROM pruned_guarded) p
      WHERE p.workflow_id IS NOT NULL AND e.job_id = p.id
    )
    SELECT (SELECT count(*) FROM pruned)::int + (SELECT count(*) FROM pruned_guarded)::int AS pruned`);
  pruned += rows[0]?.pruned ?? 0;
  await database.query(sql`
    DELETE FROM ${s}.workflows w WHERE w.inserted_at < ${age}
      AND NOT EXISTS (SELECT 1 FROM ${allJobs(schema)} j WHERE j.workflow_id = w.id)`);
  await database.query(sql`
    DELETE FROM ${s}.batches b WHERE b.inserted_at < ${age}
      AND NOT EXISTS (SELECT 1 FROM ${allJobs(schema)} j WHERE j.batch_id = b.id)`);
  return pruned;
}

/** Drops one day of the history with its steps' edges; 0 when its lock is not free at once. */
async function dropPartition({ database, schema }: EngineContext, name: string): Promise<number> {
  const s = sql.raw(schema);
  const table = sql.raw(`${schema}.${name}`);
  try {
    return await database.transaction(async (tx) => {
      await database.query(sql.raw(`SET LOCAL lock_timeout = '${dropLockTimeout}'`), tx);
      const [counted] = await database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${table}`, tx);
      await database.query(
        sql`DELETE FROM ${s}.workflow_deps e USING ${table} p WHERE p.workflow_id IS NOT NULL AND e.job_id = p.id`,
        tx,
      );
      await database.query(sql`DROP TABLE ${table}`, tx);
      return counted?.n ?? 0;
    });
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return 0; // lock_not_available
    throw error;
  }
}
