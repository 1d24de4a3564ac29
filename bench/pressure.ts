// The pressure benchmark: what a transaction pinning the xmin horizon, four repeatable-read
// readers scanning the jobs and 1.5× sustained overload do to Koban's throughput, latency and dead
// rows on the hot table, and how it recovers. Run on demand, never in `npm test`:
//   npm run bench:pressure                       # 60 s clean, 600 s under pressure, 60 s after
//   npm run bench:pressure -- --pressure 60 --clean 20 --after 30 --concurrency 20
// It creates (and drops) its own database on the server of --url.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { defineWorker, type Job, Koban, newJob } from '../index.js';
import { processCpuMicros } from './cpu.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    clean: { type: 'string', default: '60' },
    pressure: { type: 'string', default: '600' },
    after: { type: 'string', default: '60' },
    overload: { type: 'string', default: '1.5' },
    concurrency: { type: 'string', default: '20' },
    // A cluster-wide limit on the queue (flow control), as large as the concurrency: its claims
    // count the queue's executing jobs.
    global: { type: 'boolean', default: false },
    readers: { type: 'string', default: '4' },
  },
});
const seconds = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!(Number.isFinite(value) && value > 0))
    throw new Error(`--${name}: expected a positive number, got ${values[name]}`);
  return value;
};
const phases = { clean: seconds('clean'), pressure: seconds('pressure'), after: seconds('after') };
const overload = seconds('overload');
const concurrency = seconds('concurrency');
const readerCount = Number(values.readers);
if (!(Number.isInteger(readerCount) && readerCount >= 0))
  throw new Error(`--readers: expected a whole number of readers (0 or more), got ${values.readers}`);

class PressureWorker {
  async process(_job: Job<{ at: number }>) {}
}
defineWorker(PressureWorker, { queue: 'pressure' });

const server = new URL(String(values.url));
const name = `koban_pressure_${process.pid}`;
const admin = postgres(server.toString(), { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const probe = postgres(url.toString(), { max: 2, onnotice: () => {} });

const koban = await Koban.start({
  database: url.toString(),
  queues: { pressure: values.global ? { limit: concurrency, global: { limit: concurrency } } : concurrency },
  poolSize: 10,
  logger: { info() {}, warn() {}, error: (...args) => console.error('[koban]', ...args) },
});

/** Completed jobs per second and the latency (insert to completion) of each, by one-second window. */
interface Sample {
  readonly at: number;
  /** The time the sample covers (a second, or more when a tick was skipped). */
  readonly seconds: number;
  readonly phase: string;
  readonly done: number;
  readonly latencies: number[];
  readonly deadRows: number;
  readonly liveRows: number;
  readonly backlog: number;
  /** CPU seconds in the window: the readers' backends, every other backend of the database, this process. */
  readonly readersCpu: number;
  readonly serverCpu: number;
  readonly processCpu: number;
  /** Busy CPU seconds of the whole machine, every process on it. */
  readonly machineCpu: number;
}
const samples: Sample[] = [];
let phase = 'calibrate';
let window = { done: 0, latencies: [] as number[] };
koban.on('job:stop', ({ job }) => {
  window.done++;
  window.latencies.push(Date.now() - (job.args as { at: number }).at);
});

async function hotTable(): Promise<{ dead: number; live: number }> {
  const [row] = await probe<{ dead: string; live: string }[]>`
    SELECT n_dead_tup AS dead, n_live_tup AS live FROM pg_stat_user_tables
    WHERE schemaname = 'koban' AND relname = 'jobs'`;
  return { dead: Number(row?.dead ?? 0), live: Number(row?.live ?? 0) };
}

/** The backends of the pinning transaction and of the readers, told apart from Koban's. */
const readerPids = new Set<number>();
const probePid = (await probe<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid;
const lastCpu = new Map<number, number>();
let lastProcessCpu = process.cpuUsage();

/** The machine's busy CPU seconds since boot (all cores; idle and iowait left out), from /proc/stat. */
function machineBusy(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return (total - fields[3]! - fields[4]!) / 100;
}
let lastMachineBusy = machineBusy();

/** CPU seconds each side used since the last call, from /proc (see cpu.ts). */
async function cpuSince(): Promise<{ readers: number; server: number; process: number; machine: number }> {
  // A reader's parallel workers count as the reader's.
  const backends = await probe<{ pid: number; leader: number | null }[]>`
    SELECT pid, leader_pid AS leader FROM pg_stat_activity WHERE datname = ${name} AND pid <> ${probePid}`;
  let readers = 0;
  let server = 0;
  for (const { pid, leader } of backends) {
    const micros = processCpuMicros(pid);
    if (micros === undefined) continue;
    const used = micros - (lastCpu.get(pid) ?? micros);
    lastCpu.set(pid, micros);
    if (readerPids.has(pid) || (leader !== null && readerPids.has(leader))) readers += used;
    else server += used;
  }
  const used = process.cpuUsage(lastProcessCpu);
  lastProcessCpu = process.cpuUsage();
  const busy = machineBusy();
  const machine = busy - lastMachineBusy;
  lastMachineBusy = busy;
  return { readers: readers / 1e6, server: server / 1e6, process: (used.user + used.system) / 1e6, machine };
}

/** Jobs inserted and completed so far: the backlog is their difference, counted without a query. */
let insertedCount = 0;
let completedCount = 0;
koban.on('job:stop', () => {
  completedCount++;
});

// One sample a second; a tick that finds the last one still reading the database is skipped, and
// the next sample covers the time since the last one.
let windowStart = Date.now();
let sampling = false;
async function sample(): Promise<void> {
  if (sampling) return;
  sampling = true;
  const current = window;
  const currentPhase = phase;
  const now = Date.now();
  window = { done: 0, latencies: [] };
  const seconds = (now - windowStart) / 1000;
  windowStart = now;
  const backlog = insertedCount - completedCount;
  try {
    const table = await hotTable();
    const cpu = await cpuSince();
    samples.push({
      at: now,
      seconds,
      phase: currentPhase,
      done: current.done,
      latencies: current.latencies,
      deadRows: table.dead,
      liveRows: table.live,
      backlog,
      readersCpu: cpu.readers,
      serverCpu: cpu.server,
      processCpu: cpu.process,
      machineCpu: cpu.machine,
    });
  } finally {
    sampling = false;
  }
}
const sampler = setInterval(() => void sample(), 1000);

// Capacity: how fast this node drains a backlog on a clean table.
const backlogSize = 20 * concurrency * 10;
await koban.insertAll(Array.from({ length: backlogSize }, () => newJob(PressureWorker, { at: Date.now() })));
insertedCount += backlogSize;
const calibrationStart = Date.now();
while ((await probe<{ n: number }[]>`SELECT count(*)::int AS n FROM koban.jobs`)[0]!.n > 0) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const capacity = backlogSize / ((Date.now() - calibrationStart) / 1000);
const rate = capacity * overload;
console.log(`capacity ${capacity.toFixed(0)} jobs/s; inserting ${rate.toFixed(0)} jobs/s (${overload}×)`);

// The producer of the load: batches every 100 ms at `rate`.
let inserting = true;
const inserter = (async () => {
  let owed = 0;
  while (inserting) {
    owed += rate / 10;
    const count = Math.floor(owed);
    owed -= count;
    const at = Date.now();
    if (count > 0) {
      await koban.insertAll(Array.from({ length: count }, () => newJob(PressureWorker, { at })));
      insertedCount += count;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - at))));
  }
})();

const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));
phase = 'clean';
await sleep(phases.clean);

// The pressure: one transaction that pins the xmin horizon for the whole phase, and readers that
// scan the jobs in repeatable-read transactions, one after another.
phase = 'pressure';
const holder = postgres(url.toString(), { max: 1, onnotice: () => {} });
let releaseHolder: () => void = () => {};
const held = holder.begin('isolation level repeatable read', async (sql) => {
  readerPids.add((await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid);
  await sql`SELECT txid_current(), count(*) FROM koban.all_jobs`;
  await new Promise<void>((resolve) => {
    releaseHolder = resolve;
  });
});
let reading = true;
const readers = Array.from({ length: readerCount }, async () => {
  const reader = postgres(url.toString(), { max: 1, onnotice: () => {} });
  readerPids.add((await reader<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid);
  while (reading) {
    await reader.begin('isolation level repeatable read', async (sql) => {
      await sql`SELECT count(*), max(inserted_at) FROM koban.jobs`;
      await sql`SELECT state, count(*) FROM koban.all_jobs GROUP BY state`;
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
  }
  await reader.end();
});
await sleep(phases.pressure);
releaseHolder();
reading = false;
await held;
await Promise.all(readers);
await holder.end();

phase = 'after';
await sleep(phases.after);
inserting = false;
await inserter;
clearInterval(sampler);
while (sampling) await sleep(0.05);
await koban.stop();

// The report: per phase, throughput, latency percentiles, dead rows on the hot table.
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const rows = ['clean', 'pressure', 'after'].map((name) => {
  const of = samples.filter((sample) => sample.phase === name);
  const latencies = of.flatMap((sample) => sample.latencies).sort((a, b) => a - b);
  const seconds = Math.max(
    1e-3,
    of.reduce((sum, sample) => sum + sample.seconds, 0),
  );
  const perSecond = (value: (sample: Sample) => number) =>
    of.reduce((sum, sample) => sum + value(sample), 0) / seconds;
  return {
    phase: name,
    seconds: Math.round(seconds),
    'jobs/s': perSecond((sample) => sample.done).toFixed(0),
    'p50 ms': percentile(latencies, 50).toFixed(0),
    'p99 ms': percentile(latencies, 99).toFixed(0),
    'max dead rows (jobs)': Math.max(0, ...of.map((sample) => sample.deadRows)),
    'max live rows (jobs)': Math.max(0, ...of.map((sample) => sample.liveRows)),
    'backlog at end': of.at(-1)?.backlog ?? 0,
    // Cores in use on average: what each side took of the machine.
    'readers cores': perSecond((sample) => sample.readersCpu).toFixed(2),
    'Koban backends cores': perSecond((sample) => sample.serverCpu).toFixed(2),
    'this process cores': perSecond((sample) => sample.processCpu).toFixed(2),
    'machine busy cores': perSecond((sample) => sample.machineCpu).toFixed(2),
  };
});
console.table(rows);
const clean = Number(rows[0]!['jobs/s']);
const after = samples.filter((sample) => sample.phase === 'after');
const recovered = after.findIndex((_sample, index) => {
  const next = after.slice(index, index + 5);
  return next.length === 5 && next.every((s) => s.done / s.seconds >= 0.85 * clean);
});
console.log(
  `pressure throughput ${((Number(rows[1]!['jobs/s']) / clean) * 100).toFixed(0)}% of clean; ` +
    (recovered >= 0
      ? `after: within 15% of clean for 5 s from ${after
          .slice(0, recovered)
          .reduce((sum, s) => sum + s.seconds, 0)
          .toFixed(0)} s after the release`
      : 'after: not back within 15% of clean for 5 s running'),
);
await probe.end();
await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
