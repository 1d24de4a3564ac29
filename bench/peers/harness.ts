// The child side of the peer comparison: one scenario of one system on one fresh database, in a
// process of its own. Usage: node <build>/bench/peers/<system>.js <insert|process|latency> <dbUrl> <n> [option]
// Prints progress to stderr and one JSON report line to stdout.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { CpuMeter } from '../cpu.js';
import { type ChildArgs, childMain, log, type Report } from '../report.js';
import { percentile } from '../stats.js';

export interface Producer {
  /** Inserts jobs `{ n: 0 } … { n: count - 1 }` with the system's batch API. */
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
  producer(url: string, option?: string): Promise<Producer>;
  /** Starts workers whose no-op handler calls `started(n)` first thing. */
  consumer(url: string, started: (n: number) => void, option?: string): Promise<Consumer>;
  /** How many jobs are not completed yet; `sql` is connected to the bench database. */
  pending(sql: postgres.Sql, option?: string): Promise<number>;
  /** Processes outside PostgreSQL whose CPU counts as the database's (redis-server). */
  serverPids?(option?: string): Promise<number[]>;
  /** Removes what the run left outside its database (keys on a shared Redis). */
  cleanup?(option?: string): Promise<void>;
  /** The settings the system runs with, for the table's legend. */
  settings(option?: string): string;
}

/** Counts rows with one SQL statement: the usual `pending` of a peer on PostgreSQL. */
export const countRows = (query: string) => async (sql: postgres.Sql) => {
  const [row] = await sql.unsafe(query);
  return Number(row!.count);
};

async function meter(peer: Peer, sql: postgres.Sql, option?: string): Promise<CpuMeter> {
  return CpuMeter.start(sql, (await peer.serverPids?.(option)) ?? []);
}

async function insert(peer: Peer, sql: postgres.Sql, { url, n, option }: ChildArgs) {
  const producer = await peer.producer(url, option);
  const cpu = await meter(peer, sql, option);
  const t0 = performance.now();
  await producer.insertMany(n);
  const ms = performance.now() - t0;
  const use = await cpu.stop();
  await producer.close();
  const count = await peer.pending(sql, option);
  if (count !== n) throw new Error(`expected ${n} queued jobs after insert, found ${count}`);
  return { ms, rate: (n / ms) * 1000, nodeUs: use.nodeUs / n, dbUs: use.dbUs / n };
}

async function processAll(peer: Peer, sql: postgres.Sql, { url, n, option }: ChildArgs) {
  const producer = await peer.producer(url, option);
  await producer.insertMany(n);
  await producer.close();
  // A live queue table has planner statistics; a fresh one has none until autovacuum gets to it
  // (and autovacuum may be off), which made graphile-worker's 100,000-job run about 2× slower.
  await sql`ANALYZE`;
  log(`${n} jobs queued; starting workers`);
  let handled = 0;
  let allHandled!: () => void;
  const done = new Promise<void>((resolve) => {
    allHandled = resolve;
  });
  const cpu = await meter(peer, sql, option);
  const ticker = setInterval(() => log(`handled ${handled}/${n}`), 1000);
  const t0 = performance.now();
  const consumer = await peer.consumer(
    url,
    () => {
      if (++handled === n) allHandled();
    },
    option,
  );
  await done;
  while ((await peer.pending(sql, option)) > 0) await sleep(5);
  const ms = performance.now() - t0;
  const use = await cpu.stop();
  clearInterval(ticker);
  await consumer.stop();
  return { ms, rate: (n / ms) * 1000, nodeUs: use.nodeUs / n, dbUs: use.dbUs / n };
}

async function latency(peer: Peer, { url, n, option }: ChildArgs) {
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
  const waited = new AbortController();
  const timeout = sleep(10_000, undefined, { signal: waited.signal }).then(() => {
    throw new Error(`only ${startedCount}/${n} jobs started within 10 s`);
  });
  timeout.catch(() => {}); // aborted once every job started
  await Promise.race([done, timeout]);
  waited.abort();
  await consumer.stop();
  const waits = sent.map((t, i) => began[i]! - t);
  return { p50: percentile(waits, 50), p95: percentile(waits, 95), p99: percentile(waits, 99) };
}

/** The main of a peer's child process. */
export function run(peer: Peer): void {
  childMain(async (args): Promise<Report> => {
    const sql = postgres(args.url, { max: 1, onnotice: () => {} });
    try {
      const measured =
        args.scenario === 'insert'
          ? await insert(peer, sql, args)
          : args.scenario === 'process'
            ? await processAll(peer, sql, args)
            : args.scenario === 'latency'
              ? await latency(peer, args)
              : undefined;
      if (!measured) throw new Error(`unknown scenario ${args.scenario}`);
      return { ...measured, jobs: args.n, settings: peer.settings(args.option) };
    } finally {
      await peer.cleanup?.(args.option);
      await sql.end();
    }
  });
}
