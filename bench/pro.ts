// What the Pro features cost, each as a ratio to plain jobs, on one PostgreSQL server:
// unique inserts vs plain inserts, and encrypted jobs processed vs plain jobs processed.
// Each figure runs on a fresh database, dropped afterwards. Public API only.
// Usage: npx tsx bench/pro.ts [--jobs 20000] [--runs 5] [--limit 1000]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { defineWorker, type Job, Koban, newJob } from '../index.js';
import { compare, printTable, quietLogger, withDatabase } from './rounds.js';

const { values: flags } = parseArgs({
  options: { jobs: { type: 'string' }, runs: { type: 'string' }, limit: { type: 'string' } },
});
const jobs = Number(flags.jobs ?? 20_000);
const runs = Number(flags.runs ?? 5);
const limit = Number(flags.limit ?? 1000);
const logger = quietLogger;

let done: () => void = () => {};
let processed = 0;
const count = () => {
  if (++processed === jobs) done();
};

class PlainJob {
  async process(_job: Job<{ n: number; note: string }>) {
    count();
  }
}
defineWorker(PlainJob, { queue: 'bench' });

class UniqueJob {
  async process(_job: Job<{ n: number; note: string }>) {
    count();
  }
}
defineWorker(UniqueJob, { queue: 'bench', unique: { period: 3600, states: 'incomplete' } });

class EncryptedJob {
  async process(_job: Job<{ n: number; note: string }>) {
    count();
  }
}
defineWorker(EncryptedJob, { queue: 'bench', encrypted: { key: randomBytes(32) } });

const workers = [PlainJob, UniqueJob, EncryptedJob];
type Worker = (typeof workers)[number];
const specs = (worker: Worker) =>
  Array.from({ length: jobs }, (_, n) => newJob(worker, { n, note: `customer ${n % 977} order ${n}` }));

/** Jobs per second for one insertAll of every job. */
function insertRate(worker: Worker): Promise<number> {
  return withDatabase('pro', async (url) => {
    const koban = await Koban.start({ database: url, queues: {}, workers, logger });
    const batch = specs(worker);
    const started = performance.now();
    await koban.insertAll(batch);
    const seconds = (performance.now() - started) / 1000;
    await koban.stop();
    return jobs / seconds;
  });
}

/** Jobs per second from the start of a node to the last job processed, all jobs inserted first. */
function processRate(worker: Worker): Promise<number> {
  return withDatabase('pro', async (url) => {
    const inserter = await Koban.start({ database: url, queues: {}, workers, logger });
    await inserter.insertAll(specs(worker));
    await inserter.stop();
    processed = 0;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    const koban = await Koban.start({ database: url, queues: { bench: limit }, workers, logger });
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await koban.stop();
    return jobs / seconds;
  });
}

await insertRate(PlainJob); // warm up: JIT and connection set-up are not what is measured
const inserts = await compare(
  'insert',
  runs,
  () => insertRate(PlainJob),
  () => insertRate(UniqueJob),
);
const processing = await compare(
  'process',
  runs,
  () => processRate(PlainJob),
  () => processRate(EncryptedJob),
);

printTable(
  `Koban Pro features: medians of ${runs} round(s); ratio = median of per-round ratios; queue limit ${limit}`,
  [
    [`insertAll ${jobs} (jobs/s)`, inserts, 'unique'],
    [`process ${jobs} (jobs/s)`, processing, 'encrypted'],
  ],
);
