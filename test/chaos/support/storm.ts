import postgres from 'postgres';
import { type Cluster, sleep } from './cluster.js';
import { insertChaosJobs } from './workers.js';

export interface StormOptions {
  /** The database whose connections are terminated. */
  readonly database: string;
  readonly durationMs: number;
  /** Milliseconds between terminations, drawn uniformly from this range. */
  readonly everyMs: readonly [number, number];
  /** Jobs inserted every 100 ms while the storm lasts. */
  readonly jobsPerTick: number;
  /** How long each job takes. */
  readonly jobMs?: number;
}

export interface StormResult {
  readonly terminated: number;
  readonly inserted: number;
  /** Jobs completed while the storm lasted. */
  readonly completedDuringStorm: number;
  /** Milliseconds from the end of the storm until every job was completed. */
  readonly catchUpMs: number;
  /** The longest time, during or after the storm, in which jobs waited and none completed. */
  readonly longestStallMs: number;
  readonly states: Record<string, number>;
}

/**
 * Terminates every backend of `database` (but the storm's own) at random intervals while feeding
 * jobs, then waits until all of them are completed, watching for stalls.
 */
export async function terminationStorm(
  cluster: Cluster,
  options: StormOptions,
  catchUpTimeoutMs = 60_000,
): Promise<StormResult> {
  const settings = { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 10 } as const;
  const admin = postgres(cluster.url(), settings);
  const feeder = postgres(cluster.url(options.database), settings);
  try {
    const [own] = await feeder<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    const started = Date.now();
    const stormOver = () => Date.now() - started >= options.durationMs;
    let terminated = 0;
    let inserted = 0;
    const terminator = (async () => {
      while (!stormOver()) {
        const rows = await admin`
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = ${options.database} AND pid <> ${own!.pid} AND backend_type = 'client backend'`;
        terminated += rows.length;
        const [low, high] = options.everyMs;
        await sleep(low + Math.random() * (high - low));
      }
    })();
    const monitor = new Monitor(feeder);
    const feeding = (async () => {
      while (!stormOver()) {
        await feeder.unsafe(insertChaosJobs(options.jobsPerTick, options.jobMs));
        inserted += options.jobsPerTick;
        await monitor.sample();
        await sleep(100);
      }
    })();
    await Promise.all([terminator, feeding]);
    const completedDuringStorm = (await monitor.sample()).completed;
    const stormEnded = Date.now();
    const deadline = stormEnded + catchUpTimeoutMs;
    let counts = await monitor.sample();
    while (counts.completed < inserted && Date.now() < deadline) {
      await sleep(50);
      counts = await monitor.sample();
    }
    const rows = await feeder<{ state: string; count: number }[]>`
      SELECT state, count(*)::int AS count FROM koban.all_jobs GROUP BY state`;
    return {
      terminated,
      inserted,
      completedDuringStorm,
      catchUpMs: Date.now() - stormEnded,
      longestStallMs: monitor.longestStallMs,
      states: Object.fromEntries(rows.map((row) => [row.state, row.count])),
    };
  } finally {
    await Promise.all([admin.end({ timeout: 1 }), feeder.end({ timeout: 1 })]);
  }
}

/** Tracks completions over time: a stall is time in which jobs waited and none completed. */
class Monitor {
  longestStallMs = 0;
  private lastCompleted = -1;
  private lastProgress = Date.now();

  constructor(private readonly sql: postgres.Sql) {}

  async sample(): Promise<{ completed: number; waiting: number }> {
    const [row] = await this.sql<{ completed: number; waiting: number }[]>`
      SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed,
             count(*) FILTER (WHERE state <> 'completed')::int AS waiting
      FROM koban.all_jobs`;
    const now = Date.now();
    if (row!.completed !== this.lastCompleted || row!.waiting === 0) {
      this.lastCompleted = row!.completed;
      this.lastProgress = now;
    }
    this.longestStallMs = Math.max(this.longestStallMs, now - this.lastProgress);
    return row!;
  }
}
