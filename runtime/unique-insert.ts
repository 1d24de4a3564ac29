import { type SQL, sql } from 'drizzle-orm';
import { type JobState, jobStates } from '../sdk/job.js';
import type { ReplaceField } from '../sdk/worker-options.js';
import { prefixed } from './claim.js';
import type { Database, Executor } from './database.js';
import { arrayLiteral, type InsertedJob } from './insert.js';
import { type JobRow, jobColumns, toJobRecord } from './job-row.js';
import type { InsertRow } from './prepare-job.js';
import { type ReplacePlan, stateBit } from './unique.js';

/** A row with a unique key. */
export type UniqueRow = InsertRow & { readonly uniqueKey: string; readonly uniqueStates: number };

/**
 * Inserts unique rows, returning for each the new job, or the job that holds its key with
 * `conflict: true`. The database decides: the generated `unique_active` column and its unique
 * index admit one holder per key, so any number of racing inserts leave exactly one job.
 *
 * 1. Holders older than their period give their key up (`unique_key = NULL`), in one statement.
 * 2. `INSERT … ON CONFLICT (unique_active) DO UPDATE` inserts or updates the holder, and
 *    RETURNING gives back whichever row it was in the same statement, so a conflict always comes
 *    with its job (no `DO NOTHING` gap where the holder vanishes between two statements). The
 *    update is a no-op unless `replace` names columns for the holder's state.
 *
 * A job whose first state (available or scheduled) is not among its unique states does not take
 * the key itself, so it cannot meet a holder in the index: it looks the holder up in the same
 * statement, and is not inserted when one exists (`replace` does not apply on that path).
 *
 * A key repeated within one call goes in a later round, so it meets the first as a conflict
 * (one statement cannot insert and then update the same row). Rows are sorted by key within a
 * statement so that concurrent multi-row inserts take their locks in the same order.
 */
export async function insertUniqueRows(
  database: Database,
  schema: string,
  rows: readonly UniqueRow[],
  executor?: Executor,
): Promise<InsertedJob[]> {
  const expiring = rows.filter((row) => row.uniquePeriod != null);
  if (expiring.length > 0) await database.query(expireStatement(schema, expiring), executor);
  const results: InsertedJob[] = new Array(rows.length);
  for (const round of rounds(rows)) {
    const groups = new Map<string, number[]>();
    for (const index of round) {
      const row = rows[index]!;
      const group = `${row.uniqueReplace?.signature ?? ''}|${holdsAtInsert(row)}`;
      const members = groups.get(group);
      if (members) members.push(index);
      else groups.set(group, [index]);
    }
    for (const indexes of groups.values()) {
      const group = indexes.map((index) => rows[index]!);
      const { uniqueReplace } = group[0]!;
      const returned = await database.query<JobRow & { unique_key: string; conflict: boolean }>(
        holdsAtInsert(group[0]!)
          ? insertStatement(schema, group, uniqueReplace)
          : lookupInsertStatement(schema, group, uniqueReplace),
        executor,
      );
      const byKey = new Map(returned.map((row) => [row.unique_key, row]));
      for (const index of indexes) {
        const row = byKey.get(rows[index]!.uniqueKey)!;
        results[index] = { ...toJobRecord(row), conflict: Boolean(row.conflict) };
      }
    }
  }
  return results;
}

/** Whether a row holds its key from the start, whichever of available or scheduled it begins in. */
function holdsAtInsert(row: UniqueRow): boolean {
  return (row.uniqueStates & firstStates) === firstStates;
}
const firstStates = stateBit('available') | stateBit('scheduled');

/** Round n holds the n-th occurrence of each key. */
function rounds(rows: readonly UniqueRow[]): number[][] {
  const seen = new Map<string, number>();
  const result: number[][] = [];
  rows.forEach((row, index) => {
    const round = seen.get(row.uniqueKey) ?? 0;
    seen.set(row.uniqueKey, round + 1);
    if (round === result.length) result.push([]);
    result[round]!.push(index);
  });
  return result;
}

function expireStatement(schema: string, rows: readonly UniqueRow[]): SQL {
  return sql`
    UPDATE ${sql.raw(schema)}.jobs j SET unique_key = NULL
    FROM unnest(${sql.param(rows.map((row) => row.uniqueKey))}::text[], ${sql.param(rows.map((row) => row.uniquePeriod))}::float8[])
      AS e(key, period)
    WHERE j.unique_active = e.key AND j.inserted_at < now() - e.period * interval '1 second'`;
}

function unnestRows(rows: readonly UniqueRow[]): SQL {
  const column = <T>(pick: (row: UniqueRow) => T) => sql.param(rows.map(pick));
  return sql`unnest(
      ${column((row) => row.worker)}::text[], ${column((row) => row.queue)}::text[],
      ${column((row) => JSON.stringify(row.args))}::text[], ${column((row) => JSON.stringify(row.meta))}::text[],
      ${column((row) => arrayLiteral(row.tags))}::text[], ${column((row) => row.maxAttempts)}::int[],
      ${column((row) => row.priority)}::smallint[], ${column((row) => row.scheduledAt?.toISOString() ?? null)}::text[],
      ${column((row) => row.uniqueKey)}::text[], ${column((row) => row.uniqueStates)}::smallint[]
    ) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at, unique_key, unique_states)`;
}

const insertColumns =
  'state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at, unique_key, unique_states';
const insertValues = `CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END,
  t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority,
  coalesce(t.scheduled_at::timestamptz, now()), t.unique_key, t.unique_states`;

function insertStatement(schema: string, rows: readonly UniqueRow[], replace: ReplacePlan | undefined): SQL {
  return sql`
    INSERT INTO ${sql.raw(schema)}.jobs AS j (${sql.raw(insertColumns)})
    SELECT ${sql.raw(insertValues)}
    FROM ${unnestRows(rows)}
    ORDER BY t.unique_key
    ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL
    DO UPDATE SET ${replaceSet(replace)}
    RETURNING ${sql.raw(jobColumns)}, j.unique_key, (j.xmax <> 0) AS conflict`;
}

/**
 * For rows that may start outside their unique states: `found` are the holders of the keys of
 * rows that will not hold theirs, read in the statement's snapshot, so a holder returned as a
 * conflict is a job that exists. Every other row goes through ON CONFLICT as usual.
 */
function lookupInsertStatement(
  schema: string,
  rows: readonly UniqueRow[],
  replace: ReplacePlan | undefined,
): SQL {
  const s = sql.raw(schema);
  return sql`
    WITH t AS MATERIALIZED (SELECT * FROM ${unnestRows(rows)}),
    found AS MATERIALIZED (
      SELECT h.id, t.unique_key FROM t JOIN ${s}.jobs h ON h.unique_active = t.unique_key
      WHERE t.unique_states & (CASE WHEN t.scheduled_at::timestamptz > now() THEN 2 ELSE 1 END) = 0
    ),
    inserted AS (
      INSERT INTO ${s}.jobs AS j (${sql.raw(insertColumns)})
      SELECT ${sql.raw(insertValues)} FROM t
      WHERE NOT EXISTS (SELECT 1 FROM found WHERE found.unique_key = t.unique_key)
      ORDER BY t.unique_key
      ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL
      DO UPDATE SET ${replaceSet(replace)}
      RETURNING ${sql.raw(jobColumns)}, j.unique_key, (j.xmax <> 0) AS conflict
    )
    SELECT * FROM inserted
    UNION ALL
    SELECT ${sql.raw(prefixed('h', jobColumns))}, found.unique_key, true FROM found JOIN ${s}.jobs h ON h.id = found.id`;
}

const replaceColumns: Record<ReplaceField, string> = {
  args: 'args',
  maxAttempts: 'max_attempts',
  meta: 'meta',
  priority: 'priority',
  queue: 'queue',
  scheduledAt: 'scheduled_at',
  tags: 'tags',
};

/**
 * The SET list of a conflicting insert: each replaced column takes the new value when the
 * holder's state is one `replace` lists for it. A new `scheduledAt` also moves an available or
 * scheduled holder to the state that time implies. States come from a fixed list, so inlining
 * them is safe.
 */
function replaceSet(replace: ReplacePlan | undefined): SQL {
  const sets = ['unique_key = j.unique_key'];
  for (const { field, states } of replace?.fields ?? []) {
    const column = replaceColumns[field];
    const when = stateCondition(states);
    sets.push(`${column} = CASE WHEN ${when} THEN EXCLUDED.${column} ELSE j.${column} END`);
    if (field === 'scheduledAt') {
      sets.push(
        `state = CASE WHEN ${when} AND j.state IN ('available', 'scheduled') ` +
          `THEN CASE WHEN EXCLUDED.scheduled_at > now() THEN 'scheduled' ELSE 'available' END ELSE j.state END`,
      );
    }
  }
  return sql.raw(sets.join(', '));
}

function stateCondition(states: number): string {
  const listed = jobStates.filter((_, index) => (states & (1 << index)) !== 0) as JobState[];
  if (listed.length === jobStates.length) return 'true';
  return `j.state IN (${listed.map((state) => `'${state}'`).join(', ')})`;
}
