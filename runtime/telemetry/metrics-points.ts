import { KobanValidationError } from '../../sdk/errors.js';
import { histogramBoundsMs, type MetricsRange, type MetricsWireRow } from '../engine/metrics-history.js';

/** What `koban.metricsHistory(query)` reads. Every field is optional. */
export interface MetricsHistoryQuery {
  /** The first minute, inclusive. Default: an hour before `to`. */
  readonly from?: Date | undefined;
  /** The end, exclusive. Default: now. */
  readonly to?: Date | undefined;
  /** Minutes per point (1 to 1440): a chart of a day reads `step: 15`. Default 1. */
  readonly step?: number | undefined;
  /** Only this queue, or this worker. */
  readonly queue?: string | undefined;
  readonly worker?: string | undefined;
  /** One series per queue and worker (`worker`, the default), per queue, or one for all (`none`). */
  readonly groupBy?: 'worker' | 'queue' | 'none' | undefined;
}

/** A distribution of times read from the fixed histogram: percentiles are within a bucket. */
export interface TimeSummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Attempts per bucket; bucket `i` holds times up to `histogramBoundsMs[i]`, the last one the rest. */
  readonly histogram: readonly number[];
}

/** One step of one series of the metrics history, added up over every node. */
export interface MetricsPoint {
  /** The step's first minute. */
  readonly at: Date;
  /** The series: null where `groupBy` adds it up (queue with `none`, worker with `queue` or `none`). */
  readonly queue: string | null;
  readonly worker: string | null;
  /** Attempts by how they ended. */
  readonly completed: number;
  readonly retried: number;
  readonly discarded: number;
  readonly cancelled: number;
  readonly snoozed: number;
  /** How long the attempts ran, and waited from due to start. */
  readonly runTime: TimeSummary;
  readonly queueTime: TimeSummary;
}

const minuteMs = 60_000;

/** The query checked and given its defaults, as the engine reads it. */
export function metricsRange(query: MetricsHistoryQuery, now: number): MetricsRange {
  const where = 'metricsHistory';
  const fail = (field: string, message: string) =>
    new KobanValidationError([{ path: `${where}.${field}`, message }]);
  const time = (field: 'from' | 'to', value: Date | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
      throw fail(field, `expected a valid Date, got ${String(value)}`);
    return value.getTime();
  };
  const to = time('to', query.to, now);
  const from = time('from', query.from, to - 60 * minuteMs);
  if (from >= to)
    throw fail(
      'from',
      `must be before to (${new Date(to).toISOString()}), got ${new Date(from).toISOString()}`,
    );
  const step = query.step ?? 1;
  if (!Number.isInteger(step) || step < 1 || step > 1440)
    throw fail('step', `expected whole minutes from 1 to 1440, got ${step}`);
  const groupBy = query.groupBy ?? 'worker';
  if (groupBy !== 'worker' && groupBy !== 'queue' && groupBy !== 'none')
    throw fail('groupBy', `expected 'worker', 'queue' or 'none', got ${JSON.stringify(groupBy)}`);
  for (const field of ['queue', 'worker'] as const) {
    const value = query[field];
    if (value !== undefined && typeof value !== 'string')
      throw fail(field, `expected a string, got ${typeof value}`);
  }
  return {
    from: Math.floor(from / minuteMs) * minuteMs,
    to,
    stepMinutes: step,
    queue: query.queue,
    worker: query.worker,
    groupBy,
  };
}

export function toMetricsPoint(row: MetricsWireRow): MetricsPoint {
  return {
    at: new Date(row.at),
    queue: row.queue,
    worker: row.worker,
    completed: row.completed,
    retried: row.retried,
    discarded: row.discarded,
    cancelled: row.cancelled,
    snoozed: row.snoozed,
    runTime: summary(row.runHistogram, row.runMs),
    queueTime: summary(row.queueHistogram, row.queueMs),
  };
}

function summary(histogram: readonly number[], totalMs: number): TimeSummary {
  const count = histogram.reduce((sum, n) => sum + n, 0);
  return {
    count,
    meanMs: count === 0 ? 0 : totalMs / count,
    p50Ms: percentile(histogram, count, 0.5),
    p95Ms: percentile(histogram, count, 0.95),
    p99Ms: percentile(histogram, count, 0.99),
    histogram,
  };
}

/**
 * The time below which a share `q` of the attempts fall, interpolated linearly within its bucket
 * (so it is accurate to the bucket's width); the open last bucket answers its lower bound.
 */
export function percentile(histogram: readonly number[], count: number, q: number): number {
  if (count === 0) return 0;
  const rank = q * count;
  let seen = 0;
  for (let index = 0; index < histogram.length; index++) {
    const n = histogram[index] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = index === 0 ? 0 : histogramBoundsMs[index - 1]!;
      const upper = histogramBoundsMs[index];
      if (upper === undefined) return lower;
      return lower + ((rank - seen) / n) * (upper - lower);
    }
    seen += n;
  }
  return histogramBoundsMs[histogramBoundsMs.length - 1]!;
}
