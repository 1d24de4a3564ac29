// What workflows and batches cost, each against plain jobs processed in the same round, on one
// PostgreSQL server: a 10,000-wide fan-out then fan-in, a 1,000-step chain, 1,000 small
// three-step workflows, and a 20,000-job batch with handleCompleted. Public API only.
// Usage: npx tsx bench/flows.ts [--runs 3] [--width 10000] [--chain 1000] [--small 1000] [--batch 20000] [--limit 1000]
import { parseArgs } from 'node:util';
import {
  type BatchCallbacks,
  batch,
  defineWorker,
  type Job,
  type JobSpec,
  Koban,
  type KobanConfig,
  newJob,
  type Workflow,
  workflow,
} from '../index.js';
import { compare, printTable, quietLogger, withDatabase } from './rounds.js';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string' },
    width: { type: 'string' },
    chain: { type: 'string' },
    small: { type: 'string' },
    batch: { type: 'string' },
    limit: { type: 'string' },
  },
});
const runs = Number(flags.runs ?? 3);
const width = Number(flags.width ?? 10_000);
const chainLength = Number(flags.chain ?? 1000);
const small = Number(flags.small ?? 1000);
const batchSize = Number(flags.batch ?? 20_000);
const limit = Number(flags.limit ?? 1000);

let remaining = 0;
let done: () => void = () => {};
const count = () => {
  if (--remaining === 0) done();
};

class Step {
  async process(_job: Job<{ n: number }>) {
    count();
  }
}
defineWorker(Step, { queue: 'bench' });

/** A batch job whose batch counts as done when handleCompleted runs. */
class BatchStep implements BatchCallbacks {
  async process(_job: Job<{ n: number }>) {}
  async handleCompleted() {
    count();
  }
}
defineWorker(BatchStep, { queue: 'bench' });

const workers = [Step, BatchStep];
const step = (n: number) => newJob(Step, { n });

/**
 * Jobs per second from the start of a node until `expected` counts, everything inserted first
 * (untimed) by another node.
 */
function rate(jobs: number, expected: number, insert: (koban: Koban) => Promise<unknown>): Promise<number> {
  return withDatabase('flows', async (url) => {
    const config: KobanConfig = { database: url, workers, logger: quietLogger };
    const inserter = await Koban.start({ ...config, queues: {} });
    await insert(inserter);
    await inserter.stop();
    remaining = expected;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    const koban = await Koban.start({ ...config, queues: { bench: limit } });
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await koban.stop();
    return jobs / seconds;
  });
}

/** `count` plain jobs, inserted in one insertAll. */
const plain = (jobs: number) => () =>
  rate(jobs, jobs, (koban) => koban.insertAll(Array.from({ length: jobs }, (_, n) => step(n))));

function wide(): Workflow<any> {
  let flow: Workflow<any> = workflow().add('root', step(0));
  const parts = Array.from({ length: width }, (_, n) => `part_${n}`);
  for (const [n, name] of parts.entries()) flow = flow.add(name, step(n + 1), { deps: ['root'] });
  return flow.add('merge', step(width + 1), { deps: parts });
}

function chain(): Workflow<any> {
  let flow: Workflow<any> = workflow().add('step_0', step(0));
  for (let n = 1; n < chainLength; n++) flow = flow.add(`step_${n}`, step(n), { deps: [`step_${n - 1}`] });
  return flow;
}

const three = (n: number) =>
  workflow()
    .add('a', step(n))
    .add('b', step(n), { deps: ['a'] })
    .add('c', step(n), { deps: ['b'] });

const progress = (message: string) => process.stderr.write(`${message}\n`);
const wideJobs = width + 2;
progress(`flows: ${runs} round(s), queue limit ${limit}`);
await plain(1000)(); // warm up: JIT and connection set-up are not what is measured
const fanned = await compare('fan-out/fan-in', runs, plain(wideJobs), () =>
  rate(wideJobs, wideJobs, (koban) => koban.insertAll(wide())),
);
const chained = await compare('chain', runs, plain(chainLength), () =>
  rate(chainLength, chainLength, (koban) => koban.insertAll(chain())),
);
const smallOnes = await compare('small workflows', runs, plain(small * 3), () =>
  rate(small * 3, small * 3, async (koban) => {
    for (let n = 0; n < small; n++) await koban.insertAll(three(n));
  }),
);
const batched = await compare('batch', runs, plain(batchSize), () =>
  rate(batchSize, 1, (koban) =>
    koban.insertAll(
      batch(Array.from({ length: batchSize }, (_, n) => newJob(BatchStep, { n })) as JobSpec[]),
    ),
  ),
);

printTable(
  `Koban workflows and batches: medians of ${runs} round(s), each against as many plain jobs processed in the same round; ratio = median of per-round ratios; queue limit ${limit}`,
  [
    [
      `fan-out 1 → ${width.toLocaleString('en-US')} → 1 (${wideJobs.toLocaleString('en-US')} jobs/s)`,
      fanned,
      'workflow',
    ],
    [`chain of ${chainLength.toLocaleString('en-US')} steps (jobs/s)`, chained, 'workflow'],
    [`${small.toLocaleString('en-US')} three-step workflows (jobs/s)`, smallOnes, 'workflow'],
    [`batch of ${batchSize.toLocaleString('en-US')}, to handleCompleted (jobs/s)`, batched, 'batch'],
  ],
);
