import type { Ack } from '../engine/ack.js';
import type { Engine } from '../engine/engine.js';
import { histogramBoundsMs, histogramBuckets, type MetricsRow } from '../engine/metrics-history.js';

const minuteMs = 60_000;

/** One minute, queue and worker of a node's attempts, as they add up. */
interface Cell {
  completed: number;
  retried: number;
  discarded: number;
  cancelled: number;
  snoozed: number;
  runMs: number;
  queueMs: number;
  readonly runHistogram: number[];
  readonly queueHistogram: number[];
}

/** The bucket of `ms` in the fixed histogram. */
export function bucketOf(ms: number): number {
  let index = 0;
  while (index < histogramBoundsMs.length && ms > histogramBoundsMs[index]!) index++;
  return index;
}

/**
 * A node's metrics history in the making: every attempt that ends on the node is added to the
 * cell of its minute, queue and worker, in memory, and `flush` writes the cells to the history in
 * one statement (once a minute, and when the node stops). Recording allocates nothing once a
 * minute's cell exists, so it stays on for every job.
 */
export class MetricsRollup {
  /** minute → queue → worker → cell. */
  private minutes = new Map<number, Map<string, Map<string, Cell>>>();
  private current: { minute: number; queues: Map<string, Map<string, Cell>> } | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly node: string,
  ) {}

  /** Adds one ended attempt; `runMs` from start to outcome, `queueMs` from due to start. */
  record(queue: string, worker: string, state: Ack['state'], runMs: number, queueMs: number): void {
    const minute = Math.floor(Date.now() / minuteMs) * minuteMs;
    let queues = this.current?.minute === minute ? this.current.queues : undefined;
    if (!queues) queues = this.minuteOf(minute);
    let workers = queues.get(queue);
    if (!workers) {
      workers = new Map();
      queues.set(queue, workers);
    }
    let cell = workers.get(worker);
    if (!cell) {
      cell = emptyCell();
      workers.set(worker, cell);
    }
    if (state === 'completed') cell.completed++;
    else if (state === 'retryable') cell.retried++;
    else if (state === 'discarded') cell.discarded++;
    else if (state === 'cancelled') cell.cancelled++;
    else cell.snoozed++;
    cell.runMs += runMs;
    cell.queueMs += queueMs;
    cell.runHistogram[bucketOf(runMs)]!++;
    cell.queueHistogram[bucketOf(queueMs)]!++;
  }

  /** Writes what was recorded since the last flush; on failure it is kept for the next one. */
  async flush(): Promise<void> {
    if (this.minutes.size === 0) return;
    const taken = this.minutes;
    this.minutes = new Map();
    this.current = undefined;
    const rows: MetricsRow[] = [];
    for (const [minute, queues] of taken)
      for (const [queue, workers] of queues)
        for (const [worker, cell] of workers) rows.push({ minute, queue, worker, node: this.node, ...cell });
    try {
      await this.engine.writeMetrics(rows);
    } catch (error) {
      for (const row of rows) this.restore(row);
      throw error;
    }
  }

  private minuteOf(minute: number): Map<string, Map<string, Cell>> {
    let queues = this.minutes.get(minute);
    if (!queues) {
      queues = new Map();
      this.minutes.set(minute, queues);
    }
    this.current = { minute, queues };
    return queues;
  }

  /** Puts a row that could not be written back, added to what was recorded since. */
  private restore(row: MetricsRow): void {
    const queues = this.minutes.get(row.minute) ?? new Map<string, Map<string, Cell>>();
    this.minutes.set(row.minute, queues);
    const workers = queues.get(row.queue) ?? new Map<string, Cell>();
    queues.set(row.queue, workers);
    const cell = workers.get(row.worker) ?? emptyCell();
    workers.set(row.worker, cell);
    cell.completed += row.completed;
    cell.retried += row.retried;
    cell.discarded += row.discarded;
    cell.cancelled += row.cancelled;
    cell.snoozed += row.snoozed;
    cell.runMs += row.runMs;
    cell.queueMs += row.queueMs;
    for (let index = 0; index < histogramBuckets; index++) {
      cell.runHistogram[index]! += row.runHistogram[index] ?? 0;
      cell.queueHistogram[index]! += row.queueHistogram[index] ?? 0;
    }
  }
}

function emptyCell(): Cell {
  return {
    completed: 0,
    retried: 0,
    discarded: 0,
    cancelled: 0,
    snoozed: 0,
    runMs: 0,
    queueMs: 0,
    runHistogram: new Array<number>(histogramBuckets).fill(0),
    queueHistogram: new Array<number>(histogramBuckets).fill(0),
  };
}
