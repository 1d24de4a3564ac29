import { sql } from 'drizzle-orm';
import { arrayLiteral, epochMs, list } from '../database/wire.js';
import type { EngineContext } from './context.js';

/**
 * Upper bounds, in milliseconds, of the buckets of the run-time and queue-time histograms of the
 * metrics history; a last bucket takes what is longer. Fixed, so histograms from any node and any
 * minute add up bucket by bucket. Append-only: rows written with fewer buckets read as zeros.
 */
export const histogramBoundsMs: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 900_000,
];

/** How many buckets a histogram has: one per bound and one past the last. */
export const histogramBuckets = histogramBoundsMs.length + 1;

/** One node's roll-up of one minute, queue and worker: what `writeMetrics` adds to the history. */
export interface MetricsRow {
  /** The minute's start, in epoch milliseconds. */
  readonly minute: number;
  readonly queue: string;
  readonly worker: string;
  readonly node: string;
  readonly completed: number;
  readonly retried: number;
  readonly discarded: number;
  readonly cancelled: number;
  readonly snoozed: number;
  /** Sums of the attempts' run and queue times, in milliseconds. */
  readonly runMs: number;
  readonly queueMs: number;
  /** Attempts per bucket of `histogramBoundsMs`. */
  readonly runHistogram: readonly number[];
  readonly queueHistogram: readonly number[];
}

const counters = ['completed', 'retried', 'discarded', 'cancelled', 'snoozed'] as const;

/**
 * Adds roll-ups to the history in one statement: a node writes once per interval, and a row it
 * wrote before for the same minute (a flush in mid-minute, a restart under the same name) is
 * added to, bucket by bucket.
 */
export async function writeMetrics({ database, schema }: EngineContext, rows: readonly MetricsRow[]) {
  if (rows.length === 0) return;
  const column = <K extends keyof MetricsRow>(key: K) => rows.map((row) => row[key] as number | string);
  const histograms = (key: 'runHistogram' | 'queueHistogram') => rows.map((row) => arrayLiteral(row[key]));
  const added = (name: string) => `${name} = m.${name} + excluded.${name}`;
  const addedHistogram = (name: string) =>
    `${name} = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(m.${name}, excluded.${name}) AS h(a, b))`;
  await database.query(sql`
    INSERT INTO ${sql.raw(schema)}.job_metrics AS m
      (minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
       run_histogram, queue_histogram)
    SELECT to_timestamp(t.minute / 1000.0), t.queue, t.worker, t.node, t.completed, t.retried, t.discarded,
      t.cancelled, t.snoozed, t.run_ms, t.queue_ms, t.run_histogram::int[], t.queue_histogram::int[]
    FROM unnest(${list(column('minute'), 'float8')}, ${list(column('queue'), 'text')}, ${list(column('worker'), 'text')},
      ${list(column('node'), 'text')}, ${list(column('completed'), 'int')}, ${list(column('retried'), 'int')},
      ${list(column('discarded'), 'int')}, ${list(column('cancelled'), 'int')}, ${list(column('snoozed'), 'int')},
      ${list(column('runMs'), 'float8')}, ${list(column('queueMs'), 'float8')},
      ${list(histograms('runHistogram'), 'text')}, ${list(histograms('queueHistogram'), 'text')})
      AS t(minute, queue, worker, node, completed, retried, discarded, cancelled, snoozed, run_ms, queue_ms,
        run_histogram, queue_histogram)
    ON CONFLICT (minute, queue, worker, node) DO UPDATE SET
      ${sql.raw([...counters, 'run_ms', 'queue_ms'].map(added).join(', '))},
      ${sql.raw(['run_histogram', 'queue_histogram'].map(addedHistogram).join(', '))}`);
}

/** What part of the history to read, and how to group it. */
export interface MetricsRange {
  /** Epoch milliseconds: minutes from this one (inclusive) to `to` (exclusive). */
  readonly from: number;
  readonly to: number;
  /** Minutes per point: the minutes of each step are added up. */
  readonly stepMinutes: number;
  readonly queue?: string | undefined;
  readonly worker?: string | undefined;
  /** Which series: one per queue and worker, per queue, or one for everything. */
  readonly groupBy: 'worker' | 'queue' | 'none';
}

/** The history added up across nodes: one row per step and series, oldest first. */
export interface MetricsWireRow {
  /** The step's start, in epoch milliseconds. */
  readonly at: number;
  readonly queue: string | null;
  readonly worker: string | null;
  readonly completed: number;
  readonly retried: number;
  readonly discarded: number;
  readonly cancelled: number;
  readonly snoozed: number;
  readonly runMs: number;
  readonly queueMs: number;
  readonly runHistogram: number[];
  readonly queueHistogram: number[];
}

/** Bucket by bucket sums of a histogram column, as a JSON array (a fixed number of buckets). */
const histogramSum = (column: string) =>
  `json_build_array(${Array.from({ length: histogramBuckets }, (_, index) => `coalesce(sum(${column}[${index + 1}]), 0)::int`).join(', ')})`;

/**
 * Reads the history added up over nodes (and over workers or queues, by `groupBy`), in steps of
 * `stepMinutes`. Steps without attempts are absent.
 */
export async function readMetrics(
  { database, schema }: EngineContext,
  range: MetricsRange,
): Promise<MetricsWireRow[]> {
  const step = `${range.stepMinutes} minutes`;
  const queue = range.groupBy === 'none' ? sql`NULL::text` : sql`queue`;
  const worker = range.groupBy === 'worker' ? sql`worker` : sql`NULL::text`;
  const at = sql`date_bin(${step}::interval, minute, to_timestamp(0))`;
  return database.query<MetricsWireRow>(sql`
    SELECT ${sql.raw(epochMs('b.at'))} AS at, b.queue, b.worker, b.completed, b.retried, b.discarded,
      b.cancelled, b.snoozed, b.run_ms AS "runMs", b.queue_ms AS "queueMs", b.run_histogram AS "runHistogram",
      b.queue_histogram AS "queueHistogram"
    FROM (
      SELECT ${at} AS at, ${queue} AS queue, ${worker} AS worker,
        ${sql.raw(counters.map((name) => `sum(${name})::int AS ${name}`).join(', '))},
        sum(run_ms)::float8 AS run_ms, sum(queue_ms)::float8 AS queue_ms,
        ${sql.raw(histogramSum('run_histogram'))} AS run_histogram,
        ${sql.raw(histogramSum('queue_histogram'))} AS queue_histogram
      FROM ${sql.raw(schema)}.job_metrics
      WHERE minute >= to_timestamp(${range.from} / 1000.0) AND minute < to_timestamp(${range.to} / 1000.0)
        ${range.queue === undefined ? sql`` : sql`AND queue = ${range.queue}`}
        ${range.worker === undefined ? sql`` : sql`AND worker = ${range.worker}`}
      GROUP BY 1, 2, 3
    ) b
    ORDER BY b.at, b.queue, b.worker`);
}

/** Deletes the history older than `maxAgeSeconds`; returns how many rows went. */
export async function pruneMetrics(
  { database, schema }: EngineContext,
  maxAgeSeconds: number,
): Promise<number> {
  const rows = await database.query<{ pruned: number }>(sql`
    WITH pruned AS (
      DELETE FROM ${sql.raw(schema)}.job_metrics WHERE minute < now() - ${maxAgeSeconds} * interval '1 second'
      RETURNING 1
    )
    SELECT count(*)::int AS pruned FROM pruned`);
  return rows[0]?.pruned ?? 0;
}
