// The child side of the benchmark: one scenario, one library, one fresh database, one process.
// Usage: node --import tsx bench/peers/<lib>.ts <insert|process|latency> <dbUrl> <n> [option]
// Prints progress to stderr and one JSON result line to stdout.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { percentile } from '../stats.js';

export interface Producer {
  /** Inserts jobs `{ n: 0 } … { n: count - 1 }` with the library's batch API. */
  insertMany(count: number): Promise<void>;
  close(): Promise<void>;
}

export interface Consumer {
  /** Inserts one job `{ n }` through the running instance. */
  insertOne(n: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Peer {
  /** Installs the schema (untimed) and returns an inserter that runs no jobs. */
  producer(url: string): Promise<Producer>;
  /** Starts workers whose no-op handler calls `started(n)` first thing. */
  consumer(url: string, started: (n: number) => void, option?: string): Promise<Consumer>;
  /** SQL counting jobs that are not completed yet. */
  pendingSql: string;
  /** The settings the consumer runs with, for the table. */
  settings(option?: string): string;
}

export type Result = { ms: number; rate: number } | { p50: number; p95: number; p99: number };
export type Report = Result & { settings: string };

const log = (message: string) =>
  process.stderr.write(`  [${process.argv[1]?.split('/').pop()}] ${message}\n`);

async function pending(sql: postgres.Sql, peer: Peer): Promise<number> {
  const [row] = await sql.unsafe(peer.pendingSql);
  return Number(row!.count);
}

async function insert(peer: Peer, url: string, sql: postgres.Sql, n: number): Promise<Result> {
  const producer = await peer.producer(url);
  const t0 = performance.now();
  await producer.insertMany(n);
  const ms = performance.now() - t0;
  await producer.close();
  const count = await pending(sql, peer);
  if (count !== n) throw new Error(`expected ${n} queued jobs after insert, found ${count}`);
  return { ms, rate: (n / ms) * 1000 };
}

async function processAll(
  peer: Peer,
  url: string,
  sql: postgres.Sql,
  n: number,
  option?: string,
): Promise<Result> {
  const producer = await peer.producer(url);
  await producer.insertMany(n);
  await producer.close();
  // A live queue table has planner statistics; a fresh one has none until autovacuum gets to it,
  // which made graphile-worker's 100,000-job run about 2× slower and noisier.
  await sql`analyze`;
  log(`${n} jobs queued; starting workers`);
  let handled = 0;
  let allHandled!: () => void;
  const done = new Promise<void>((resolve) => {
    allHandled = resolve;
  });
  const ticker = setInterval(() => log(`handled ${handled}/${n}`), 1000);
  const t0 = performance.now();
  const consumer = await peer.consumer(
    url,
    () => {
      if (++handled === n) allHandled();
    },
    option,
  );
  log(`workers started in ${(performance.now() - t0).toFixed(0)} ms`);
  await done;
  log(`all handled at ${(performance.now() - t0).toFixed(0)} ms`);
  while ((await pending(sql, peer)) > 0) await sleep(5);
  const ms = performance.now() - t0;
  clearInterval(ticker);
  await consumer.stop();
  return { ms, rate: (n / ms) * 1000 };
}

async function latency(peer: Peer, url: string, n: number, option?: string): Promise<Result> {
  const sent: number[] = [];
  const began: number[] = [];
  let startedCount = 0;
  let allStarted!: () => void;
  const done = new Promise<void>((resolve) => {
    allStarted = resolve;
  });
  const consumer = await peer.consumer(
    url,
    (i) => {
      began[i] = performance.now();
      if (++startedCount === n) allStarted();
    },
    option,
  );
  await sleep(1000); // the workers are idle before the first insert
  const origin = performance.now();
  for (let i = 0; i < n; i++) {
    await sleep(Math.max(0, origin + i * 20 - performance.now()));
    sent[i] = performance.now();
    await consumer.insertOne(i);
    if (i % 50 === 49) log(`inserted ${i + 1}/${n}`);
  }
  const timeout = sleep(10_000).then(() => {
    throw new Error(`only ${startedCount}/${n} jobs started within 10 s`);
  });
  await Promise.race([done, timeout]);
  await consumer.stop();
  const waits = sent.map((t, i) => began[i]! - t);
  return { p50: percentile(waits, 50), p95: percentile(waits, 95), p99: percentile(waits, 99) };
}

export async function main(peer: Peer): Promise<void> {
  const [scenario, url, count, option] = process.argv.slice(2);
  const n = Number(count);
  if (!url || !Number.isInteger(n) || n <= 0)
    throw new Error('usage: <insert|process|latency> <dbUrl> <n> [option]');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    let result: Result;
    if (scenario === 'insert') result = await insert(peer, url, sql, n);
    else if (scenario === 'process') result = await processAll(peer, url, sql, n, option);
    else if (scenario === 'latency') result = await latency(peer, url, n, option);
    else throw new Error(`unknown scenario ${scenario}`);
    const report: Report = { ...result, settings: peer.settings(option) };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await sql.end();
  }
}

export function run(peer: Peer): void {
  main(peer).then(
    () => process.exit(0),
    (error: unknown) => {
      log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
