// What the Pro features cost against plain jobs, one measurement per process: unique inserts
// against plain inserts, encrypted jobs and chunks of 100 processed against plain jobs.
// Usage: node <build>/bench/features/pro.js <insert-plain|insert-unique|process-plain|process-encrypted|process-chunked> <dbUrl> <n>
import { randomBytes } from 'node:crypto';
import type { Job, Koban as KobanType } from '../../index.js';
import { loadKoban, quietLogger as logger } from '../koban-dist.js';
import { childMain } from '../report.js';
import { queueLimit, timeWindow, withSql } from './window.js';

const { Koban, defineWorker, newJob } = await loadKoban();

let done: () => void = () => {};
let remaining = 0;
const count = () => {
  if (--remaining === 0) done();
};

type Args = { n: number; note: string };

class PlainJob {
  async process(_job: Job<Args>) {
    count();
  }
}
defineWorker(PlainJob, { queue: 'bench' });

class UniqueJob {
  async process(_job: Job<Args>) {
    count();
  }
}
defineWorker(UniqueJob, { queue: 'bench', unique: { period: 3600, states: 'incomplete' } });

class EncryptedJob {
  async process(_job: Job<Args>) {
    count();
  }
}
defineWorker(EncryptedJob, { queue: 'bench', encrypted: { key: randomBytes(32) } });

class ChunkedJob {
  async process(jobs: readonly Job<Args>[]) {
    for (let index = 0; index < jobs.length; index++) count();
  }
}
defineWorker(ChunkedJob, { queue: 'bench', chunk: { size: 100, timeout: 1000 } });

const workers = [PlainJob, UniqueJob, EncryptedJob, ChunkedJob];
type Worker = (typeof workers)[number];
const specs = (worker: Worker, jobs: number) =>
  Array.from({ length: jobs }, (_, n) => newJob(worker, { n, note: `customer ${n % 977} order ${n}` }));

const scenarios: Record<string, { worker: Worker; measure: 'insert' | 'process'; settings: string }> = {
  'insert-plain': { worker: PlainJob, measure: 'insert', settings: 'insertAll() of plain jobs' },
  'insert-unique': {
    worker: UniqueJob,
    measure: 'insert',
    settings: `insertAll(), unique for 3600 s over 'incomplete'`,
  },
  'process-plain': {
    worker: PlainJob,
    measure: 'process',
    settings: `plain jobs, queue limit ${queueLimit}`,
  },
  'process-encrypted': {
    worker: EncryptedJob,
    measure: 'process',
    settings: `encrypted (AES-256-GCM), queue limit ${queueLimit}`,
  },
  'process-chunked': {
    worker: ChunkedJob,
    measure: 'process',
    settings: `chunks of 100 (timeout 1000 ms), queue limit ${queueLimit}`,
  },
};

childMain(({ scenario, url, n }) =>
  withSql(url, async (sql) => {
    const chosen = scenarios[scenario];
    if (!chosen) throw new Error(`unknown scenario ${scenario}: one of ${Object.keys(scenarios).join(', ')}`);
    const config = { database: url, workers, logger };
    const inserter = await Koban.start({ ...config, queues: {} });
    const batch = specs(chosen.worker, n);
    if (chosen.measure === 'insert') {
      const timed = await timeWindow(sql, n, async () => void (await inserter.insertAll(batch)));
      await inserter.stop();
      return { ...timed, jobs: n, settings: chosen.settings };
    }
    await inserter.insertAll(batch);
    await inserter.stop();
    await sql`ANALYZE`;
    remaining = n;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    let koban: KobanType | undefined;
    const timed = await timeWindow(sql, n, async () => {
      koban = await Koban.start({ ...config, queues: { bench: queueLimit } });
      await finished;
    });
    await koban?.stop();
    return { ...timed, jobs: n, settings: chosen.settings };
  }),
);
