// What the Koban-only rows (pro, flows, scaling) share: their queue limit, and the timed window
// with the CPU it used.
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { CpuMeter, type CpuUse } from '../cpu.js';

/** The queue limit of every Koban node in these rows (the orchestrator passes its first `--koban-limits`). */
export const queueLimit = Number(process.env.KOBAN_QUEUE_LIMIT ?? 2000);

export interface Timed {
  readonly ms: number;
  readonly rate: number;
  readonly nodeUs: number;
  readonly dbUs: number;
}

/** Times `work` for `jobs` jobs, with the CPU of this process and of the bench database's backends. */
export async function timeWindow(sql: postgres.Sql, jobs: number, work: () => Promise<void>): Promise<Timed> {
  const meter = await CpuMeter.start(sql);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const use: CpuUse = await meter.stop();
  return { ms, rate: (jobs / ms) * 1000, nodeUs: use.nodeUs / jobs, dbUs: use.dbUs / jobs };
}

/** Runs `work` with one connection to the bench database (the measuring one). */
export async function withSql<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}
