import type { KobanOps } from '../runtime/ops/ops.js';
import { type MetricsPoint, percentile, type TimeSummary } from '../runtime/telemetry/metrics-points.js';
import { type CliOptions, integerOption, UsageError } from './options.js';
import { type CliIo, duration, exitCodes, json, table, time } from './output.js';

/** One line of `koban stats`: a series' attempts over the window (or over one step with --step). */
export interface StatsRow extends Omit<MetricsPoint, 'at' | 'runTime' | 'queueTime'> {
  /** The step's first minute; null for the totals over the window. */
  readonly at: Date | null;
  readonly runTime: Durations;
  readonly queueTime: Durations;
}

/** A time summary merged across steps: the histogram is not kept. */
type Durations = Omit<TimeSummary, 'histogram'>;

const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const dayMinutes = 1440;

/**
 * `koban stats`: the metrics history the nodes write, read from the database. Without `--step`,
 * one line per queue and worker with its totals over the window (`--since`, default 1h); with
 * `--step <minutes>`, one line per step and series. `--group queue|none` adds workers (and queues) up.
 */
export async function stats(ops: KobanOps, values: CliOptions, io: CliIo): Promise<number> {
  const now = Date.now();
  const from = since(values.since, now);
  const step = integerOption(values.step, 'step');
  if (step !== undefined && (step < 1 || step > dayMinutes))
    throw new UsageError(`--step: expected whole minutes from 1 to ${dayMinutes}, got ${step}`);
  const groupBy = values.group ?? 'worker';
  if (groupBy !== 'worker' && groupBy !== 'queue' && groupBy !== 'none')
    throw new UsageError(`--group: expected worker, queue or none, got ${JSON.stringify(groupBy)}`);
  const queues = values.queue?.flatMap(splitList);
  const workers = values.worker?.flatMap(splitList);
  const windowMinutes = Math.ceil((now - from) / 60_000);
  const points = await ops.metricsHistory({
    from: new Date(from),
    to: new Date(now),
    step: step ?? Math.min(windowMinutes, dayMinutes),
    groupBy,
    queue: queues?.length === 1 ? queues[0] : undefined,
    worker: workers?.length === 1 ? workers[0] : undefined,
  });
  const chosen = points.filter(
    (point) =>
      (!queues || (point.queue !== null && queues.includes(point.queue))) &&
      (!workers || (point.worker !== null && workers.includes(point.worker))),
  );
  const rows = step === undefined ? totals(chosen) : chosen.map((point) => merge([point], point.at));
  if (values.json) {
    io.stdout.write(json({ from: new Date(from), to: new Date(now), step: step ?? null, rows }));
    return exitCodes.ok;
  }
  const headers = [
    'queue',
    'worker',
    'completed',
    'retried',
    'discarded',
    'cancelled',
    'snoozed',
    'run p50',
    'run p95',
    'run mean',
    'wait p50',
    'wait p95',
  ];
  io.stdout.write(
    table(
      step === undefined ? headers : ['at', ...headers],
      rows.map((row) => [
        ...(step === undefined ? [] : [time(row.at)]),
        row.queue ?? 'all',
        row.worker ?? 'all',
        row.completed,
        row.retried,
        row.discarded,
        row.cancelled,
        row.snoozed,
        ...times(row.runTime),
        duration(row.queueTime.p50Ms),
        duration(row.queueTime.p95Ms),
      ]),
    ),
  );
  const window = `${time(new Date(from))} to ${time(new Date(now))}`;
  io.stdout.write(
    rows.length === 0
      ? `no attempts recorded from ${window} (nodes write what they counted once a minute, and when they stop)\n`
      : `from ${window}; percentiles are within a histogram bucket\n`,
  );
  return exitCodes.ok;
}

function times(durations: Durations): string[] {
  return [duration(durations.p50Ms), duration(durations.p95Ms), duration(durations.meanMs)];
}

/** `--since`: a span back from now (90s, 30m, 6h, 7d) or an ISO time. Default one hour. */
function since(value: string | undefined, now: number): number {
  if (value === undefined) return now - unitMs.h;
  const span = /^(\d+)([smhd])$/.exec(value);
  if (span) {
    const ms = Number(span[1]) * unitMs[span[2] as keyof typeof unitMs];
    if (ms > 0) return now - ms;
  }
  const at = Date.parse(value);
  if (!span && !Number.isNaN(at) && at < now) return at;
  throw new UsageError(
    `--since: expected a span back from now (90s, 30m, 6h, 7d) or a past ISO time, got ${JSON.stringify(value)}`,
  );
}

/** The points of each series added up over the window, busiest first. */
function totals(points: readonly MetricsPoint[]): StatsRow[] {
  const bySeries = new Map<string, MetricsPoint[]>();
  for (const point of points) {
    const key = `${point.queue}\u0000${point.worker}`;
    bySeries.set(key, [...(bySeries.get(key) ?? []), point]);
  }
  return [...bySeries.values()]
    .map((series) => merge(series, null))
    .sort((a, b) => b.runTime.count - a.runTime.count || String(a.queue).localeCompare(String(b.queue)));
}

function merge(points: readonly MetricsPoint[], at: Date | null): StatsRow {
  const sum = (pick: (point: MetricsPoint) => number) => points.reduce((total, p) => total + pick(p), 0);
  return {
    at,
    queue: points[0]!.queue,
    worker: points[0]!.worker,
    completed: sum((p) => p.completed),
    retried: sum((p) => p.retried),
    discarded: sum((p) => p.discarded),
    cancelled: sum((p) => p.cancelled),
    snoozed: sum((p) => p.snoozed),
    runTime: mergeTimes(points.map((p) => p.runTime)),
    queueTime: mergeTimes(points.map((p) => p.queueTime)),
  };
}

function mergeTimes(summaries: readonly MetricsPoint['runTime'][]): Durations {
  const histogram = summaries[0]!.histogram.map((_, bucket) =>
    summaries.reduce((total, summary) => total + (summary.histogram[bucket] ?? 0), 0),
  );
  const count = histogram.reduce((total, n) => total + n, 0);
  const totalMs = summaries.reduce((total, summary) => total + summary.meanMs * summary.count, 0);
  return {
    count,
    meanMs: count === 0 ? 0 : totalMs / count,
    p50Ms: percentile(histogram, count, 0.5),
    p95Ms: percentile(histogram, count, 0.95),
    p99Ms: percentile(histogram, count, 0.99),
  };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
