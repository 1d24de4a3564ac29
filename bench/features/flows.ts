// What workflows and batches cost against plain jobs, one measurement per process: a fan-out then
// fan-in, the same of cascade steps, a chain, many small three-step workflows, a batch with
// handleCompleted; each timed from the start of a node until the last job (or the batch
// callback) ran, everything inserted first.
// Usage: node <build>/bench/features/flows.js <plain|fan-out|cascade|chain|small-workflows|batch> <dbUrl> <n>
// (n: plain jobs; the fan-out's width, also of the cascade; the chain's steps; how many small
// workflows; the batch's jobs)
import type { BatchCallbacks, Job, JobSpec, Koban as KobanType, Workflow } from '../../index.js';
import { loadKoban, quietLogger } from '../koban-dist.js';
import { childMain } from '../report.js';
import { queueLimit, timeWindow, withSql } from './window.js';

const { Koban, batch, cascade, defineWorker, newJob, workflow } = await loadKoban();

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

const step = (n: number) => newJob(Step, { n });

/** A cascade step: a function of its deps' results, recorded for the steps after it. */
const counted = cascade(
  'bench.counted',
  ({ deps }: { deps: Record<string, unknown> }) => {
    count();
    return Object.keys(deps).length;
  },
  { queue: 'bench' },
);

/** A fan-out then fan-in of cascade steps: the root, `width` parts that read it, one that reads them all. */
function cascadeFanOut(width: number): Workflow<any> {
  let flow: Workflow<any> = workflow().addCascade('root', counted, { deps: [] });
  const parts = Array.from({ length: width }, (_, n) => `part_${n}`);
  for (const name of parts) flow = flow.addCascade(name, counted, { deps: ['root'] });
  return flow.addCascade('merge', counted, { deps: parts });
}

function fanOut(width: number): Workflow<any> {
  let flow: Workflow<any> = workflow().add('root', step(0));
  const parts = Array.from({ length: width }, (_, n) => `part_${n}`);
  for (const [n, name] of parts.entries()) flow = flow.add(name, step(n + 1), { deps: ['root'] });
  return flow.add('merge', step(width + 1), { deps: parts });
}

function chain(length: number): Workflow<any> {
  let flow: Workflow<any> = workflow().add('step_0', step(0));
  for (let n = 1; n < length; n++) flow = flow.add(`step_${n}`, step(n), { deps: [`step_${n - 1}`] });
  return flow;
}

const three = (n: number) =>
  workflow()
    .add('a', step(n))
    .add('b', step(n), { deps: ['a'] })
    .add('c', step(n), { deps: ['b'] });

interface Scenario {
  /** Jobs run (the rate's numerator), and how many counts end the run. */
  jobs(n: number): number;
  expected(n: number): number;
  insert(koban: KobanType, n: number): Promise<unknown>;
  settings(n: number): string;
}

const scenarios: Record<string, Scenario> = {
  plain: {
    jobs: (n) => n,
    expected: (n) => n,
    insert: (koban, n) => koban.insertAll(Array.from({ length: n }, (_, i) => step(i))),
    settings: (n) => `${n} plain jobs in one insertAll()`,
  },
  'fan-out': {
    jobs: (n) => n + 2,
    expected: (n) => n + 2,
    insert: (koban, n) => koban.insertAll(fanOut(n)),
    settings: (n) => `a workflow 1 → ${n} → 1`,
  },
  cascade: {
    jobs: (n) => n + 2,
    expected: (n) => n + 2,
    insert: (koban, n) => koban.insertAll(cascadeFanOut(n)),
    settings: (n) => `a workflow of cascade steps 1 → ${n} → 1`,
  },
  chain: {
    jobs: (n) => n,
    expected: (n) => n,
    insert: (koban, n) => koban.insertAll(chain(n)),
    settings: (n) => `a workflow of ${n} steps, each depending on the one before`,
  },
  'small-workflows': {
    jobs: (n) => n * 3,
    expected: (n) => n * 3,
    async insert(koban, n) {
      for (let i = 0; i < n; i++) await koban.insertAll(three(i));
    },
    settings: (n) => `${n} workflows a → b → c, each inserted on its own`,
  },
  batch: {
    jobs: (n) => n,
    expected: () => 1,
    insert: (koban, n) =>
      koban.insertAll(batch(Array.from({ length: n }, (_, i) => newJob(BatchStep, { n: i })) as JobSpec[])),
    settings: (n) => `a batch of ${n} jobs, timed to its handleCompleted`,
  },
};

childMain(({ scenario, url, n }) =>
  withSql(url, async (sql) => {
    const chosen = scenarios[scenario];
    if (!chosen) throw new Error(`unknown scenario ${scenario}: one of ${Object.keys(scenarios).join(', ')}`);
    const config = { database: url, workers: [Step, BatchStep], logger: quietLogger };
    const inserter = await Koban.start({ ...config, queues: {} });
    await chosen.insert(inserter, n);
    await inserter.stop();
    await sql`ANALYZE`;
    remaining = chosen.expected(n);
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const jobs = chosen.jobs(n);
    let koban: KobanType | undefined;
    const timed = await timeWindow(sql, jobs, async () => {
      koban = await Koban.start({ ...config, queues: { bench: queueLimit } });
      await finished;
    });
    await koban?.stop();
    return { ...timed, jobs, settings: `${chosen.settings(n)}, queue limit ${queueLimit}` };
  }),
);
