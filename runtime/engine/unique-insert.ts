import { type SQL, sql } from 'drizzle-orm';
import { KobanDatabaseError } from '../../sdk/errors.js';
import { stateBit } from '../../sdk/states.js';
import type { ReplaceField } from '../../sdk/worker-options.js';
import type { Executor } from '../database/executor.js';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import {
  hasDeadline,
  hasIds,
  type InsertedColumns,
  type InsertedJob,
  type InsertRow,
  insertedFields,
  insertedRecord,
  insertSource,
  isTrackedInsert,
  jobInsert,
  type ReplacePlan,
} from './insert-row.js';
import { type JobWireRow, jobColumnList, toStoredJob } from './records.js';
import { replacesSealedArgs, resealForHolder } from './sealed-rows.js';
import { initialStateBitSql, stateInMask } from './state-sql.js';

/** A row with a unique key. */
export type UniqueRow = InsertRow & { readonly uniqueKey: string; readonly uniqueStates: number };

/**
 * Inserts unique rows, returning for each the new job, or the job that holds its key with
 * `conflict: true`. The database decides: the generated `unique_active` column and its unique
 * index admit one holder per key, so any number of racing inserts leave exactly one job.
 *
 * `INSERT … ON CONFLICT (unique_active) DO UPDATE` inserts or updates the holder, and RETURNING
 * gives back whichever row it was in the same statement, so a conflict always comes with its job
 * (no `DO NOTHING` gap where the holder vanishes between two statements). The update is a no-op
 * unless `replace` names columns for the holder's state. New jobs come back as the columns the
 * database decides (their record is built from what was sent, as for plain inserts); holders
 * come back whole.
 *
 * A holder older than its period gives its key up to a new insert. Rows share a period within a
 * statement, and the conflict update applies only to holders within it: a row whose holder has
 * expired comes back missing, its holder gives up the key (`unique_key = NULL`, found through
 * the unique index), and the row goes again. Only keys that meet an expired holder cost a second
 * statement; the common case, no holder at all, costs one.
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
  ctx: EngineContext,
  rows: readonly UniqueRow[],
  executor?: Executor,
): Promise<InsertedJob[]> {
  const { database, schema } = ctx;
  const results: InsertedJob[] = new Array(rows.length);
  for (const round of rounds(rows)) {
    const groups = new Map<string, number[]>();
    for (const index of round) {
      const row = rows[index]!;
      const group = `${row.uniqueReplace?.signature ?? ''}|${holdsAtInsert(row)}|${row.uniquePeriod ?? ''}|${row.uniqueTimestamp ?? ''}`;
      const members = groups.get(group);
      if (members) members.push(index);
      else groups.set(group, [index]);
    }
    for (const indexes of groups.values()) {
      const { uniqueReplace, uniquePeriod, uniqueTimestamp } = rows[indexes[0]!]!;
      const period: Period =
        uniquePeriod == null ? null : { seconds: uniquePeriod, column: uniqueTimestamp ?? 'inserted_at' };
      const holds = holdsAtInsert(rows[indexes[0]!]!);
      let pending = indexes;
      while (pending.length > 0) {
        const group = pending.map((index) => rows[index]!);
        const returned = await database.query<ReturnedRow>(
          holds
            ? insertStatement(schema, group, uniqueReplace, period)
            : lookupInsertStatement(schema, group, uniqueReplace, period),
          executor,
        );
        const byKey = new Map<string, ReturnedRow>();
        for (const row of returned) byKey.set(row.uniqueKey, row);
        const expired: number[] = [];
        for (const index of pending) {
          const row = rows[index]!;
          const found = byKey.get(row.uniqueKey);
          if (found === undefined) expired.push(index);
          else results[index] = found.conflict ? conflictRecord(found) : insertedRecord(row, found);
        }
        for (const index of pending) {
          const result = results[index];
          if (result?.conflict && replacesSealedArgs(rows[index]!))
            results[index] = await resealForHolder(ctx, rows[index]!, result, executor!);
        }
        if (expired.length > 0) {
          // Only a holder past its period is left out, and without a period none is.
          if (period === null) {
            throw new KobanDatabaseError(
              `a unique insert returned no job for key ${rows[expired[0]!]!.uniqueKey}: the unique index holds a key no row shows`,
            );
          }
          await database.query(
            expireStatement(
              schema,
              expired.map((index) => rows[index]!.uniqueKey),
              period,
            ),
            executor,
          );
        }
        pending = expired;
      }
    }
  }
  return results;
}

/** What a unique insert returns: the columns of `insertedRecord`, and the whole row of a holder. */
type ReturnedRow = JobWireRow & InsertedColumns & { uniqueKey: string; conflict: boolean };

/** The holder of a key, as a record whose args are in stored form: the caller opens them (runtime/workers). */
function conflictRecord(row: ReturnedRow): InsertedJob {
  return { ...toStoredJob(row), conflict: true };
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

/**
 * Holders of these keys older than the period give their keys up. Each key is looked up through
 * the unique index, and the holders are updated by primary key: the plan stays on the indexes
 * however large the table and however many keys (an `= ANY(keys)` or join on `unique_active`
 * turns into a sequential scan once the keys are a few percent of the table). A holder that
 * changed meanwhile is rechecked: it gives its key up only if it still holds one.
 */
function expireStatement(schema: string, keys: readonly string[], period: NonNullable<Period>): SQL {
  const s = sql.raw(schema);
  return sql`
    UPDATE ${s}.jobs j SET unique_key = NULL
    WHERE j.id = ANY(ARRAY(
        SELECT (SELECT h.id FROM ${s}.jobs h WHERE h.unique_active = k.key LIMIT 1)
        FROM unnest(${list(keys, 'text')}) AS k(key)))
      AND j.unique_active IS NOT NULL
      AND j.${sql.raw(period.column)} < now() - ${period.seconds}::float8 * interval '1 second'`;
}

/**
 * How long a holder blocks duplicates, counted from its insert or (`timestamp: 'scheduledAt'`)
 * from when it is due; null for as long as it is in its unique states.
 */
type Period = { readonly seconds: number; readonly column: 'inserted_at' | 'scheduled_at' } | null;

/** Whether the holder `alias` is past the period (SQL). */
function expiredHolder(alias: string, period: Period): SQL {
  return period === null
    ? sql`false`
    : sql`${sql.raw(`${alias}.${period.column}`)} < now() - ${period.seconds}::float8 * interval '1 second'`;
}

/** The shape of a unique insert: that of any insert, plus the key and its states. */
function uniqueShape(rows: readonly UniqueRow[]) {
  return { unique: true, tracked: isTrackedInsert(rows), deadline: hasDeadline(rows), ids: hasIds(rows) };
}

/** The conflict update applies only to holders within the period: an expired one is left out. */
function conflictWhere(period: Period): SQL {
  return period === null ? sql`` : sql`WHERE NOT (${expiredHolder('j', period)})`;
}

function insertStatement(
  schema: string,
  rows: readonly UniqueRow[],
  replace: ReplacePlan | undefined,
  period: Period,
): SQL {
  const shape = uniqueShape(rows);
  return jobInsert(
    schema,
    shape,
    insertSource(rows, shape),
    sql`
    ORDER BY t.unique_key
    ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL
    DO UPDATE SET ${replaceSet(replace)} ${conflictWhere(period)}
    RETURNING ${sql.raw(returnedColumns)}`,
  );
}

/**
 * Columns returned by an insert: those the database decides for a new job, every column for a
 * holder (`xmax <> 0`: the row was updated, not inserted). Null columns cost next to nothing.
 */
const decided = new Set<string>(insertedFields);
const returnedColumns = `${jobColumnList('j', (expression, field) =>
  decided.has(field) ? expression : `CASE WHEN j.xmax <> 0 THEN ${expression} END`,
)}, j.unique_key AS "uniqueKey", (j.xmax <> 0) AS conflict`;
/** The same columns, in the same order, for a holder `h` found by lookup. */
const holderColumns = `${jobColumnList('h')}, found.unique_key AS "uniqueKey", true AS conflict`;

/**
 * For rows that may start outside their unique states: `found` are the holders of the keys of
 * rows that will not hold theirs, read in the statement's snapshot, so a holder returned as a
 * conflict is a job that exists. Every other row goes through ON CONFLICT as usual. A row whose
 * found holder is past the period is neither inserted nor returned: it goes again once the
 * holder has given its key up.
 */
function lookupInsertStatement(
  schema: string,
  rows: readonly UniqueRow[],
  replace: ReplacePlan | undefined,
  period: Period,
): SQL {
  const s = sql.raw(schema);
  const shape = uniqueShape(rows);
  return sql`
    WITH t AS MATERIALIZED (SELECT * FROM ${insertSource(rows, shape)}),
    found AS MATERIALIZED (
      SELECT h.id, t.unique_key, ${expiredHolder('h', period)} AS expired
      FROM t JOIN ${s}.jobs h ON h.unique_active = t.unique_key
      WHERE t.unique_states & (${sql.raw(initialStateBitSql('t.scheduled_at::timestamptz'))}) = 0
    ),
    inserted AS (${jobInsert(
      schema,
      shape,
      sql`t`,
      sql`
      WHERE NOT EXISTS (SELECT 1 FROM found WHERE found.unique_key = t.unique_key)
      ORDER BY t.unique_key
      ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL
      DO UPDATE SET ${replaceSet(replace)} ${conflictWhere(period)}
      RETURNING ${sql.raw(returnedColumns)}`,
    )})
    SELECT * FROM inserted
    UNION ALL
    SELECT ${sql.raw(holderColumns)}
    FROM found JOIN ${s}.jobs h ON h.id = found.id
    WHERE NOT found.expired`;
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
    const when = stateInMask('j', states);
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
