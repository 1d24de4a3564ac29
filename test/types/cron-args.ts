// Type tests, checked by `npm run typecheck` (tsc): each @ts-expect-error must meet an error.
import { defineWorker, type Job, type JobBuilder, Koban, newJob } from '../../index.js';

class Daily {
  async process(_job: Job<{ kind: 'daily' | 'weekly' }>) {}
}
defineWorker(Daily);

class Counter {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(Counter);
declare const CounterBuilder: JobBuilder<typeof Counter>;

/** Cron args are typed from each entry's worker, given as a class or as its generated builder. */
export async function cronArgs(): Promise<void> {
  await Koban.start({
    cron: [
      { expression: '0 6 * * *', worker: Daily, args: { kind: 'daily' }, timezone: process.env.TZ },
      { expression: '* * * * *', worker: CounterBuilder, args: { n: 1 } },
      { expression: '* * * * *', worker: Counter, args: { n: 2 } },
    ],
  });
  await Koban.start({
    cron: [
      // @ts-expect-error: not a kind of Daily
      { expression: '0 6 * * *', worker: Daily, args: { kind: 'monthly' } },
      // @ts-expect-error: n is a number
      { expression: '* * * * *', worker: CounterBuilder, args: { n: 'one' } },
      // @ts-expect-error: m is not an arg of Counter
      { expression: '* * * * *', worker: Counter, args: { m: 1 } },
    ],
  });
}

/** Every option may be undefined, as values read from the environment are. */
export async function fromTheEnvironment(): Promise<void> {
  await Koban.start({
    database: process.env.DATABASE_URL,
    dataDir: process.env.KOBAN_DATA_DIR,
    schema: process.env.KOBAN_SCHEMA,
    node: process.env.HOSTNAME,
    poolSize: process.env.POOL ? Number(process.env.POOL) : undefined,
  });
}

/** Job options may be undefined too. */
export async function jobOptionsFromTheEnvironment(koban: Koban): Promise<void> {
  await koban.insert(newJob(Counter, { n: 1 }), {
    queue: process.env.QUEUE,
    priority: process.env.PRIORITY ? Number(process.env.PRIORITY) : undefined,
    scheduleIn: undefined,
  });
}
