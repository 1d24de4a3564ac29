import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cancel,
  defineWorker,
  discard,
  type Job,
  Koban,
  KobanConfigError,
  type NewJob,
  newJob,
  snooze,
  Worker,
  workerFunction,
  workflow,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';
import { settled } from './support.js';

// Hooks that change a job or stop it: `beforeProcess` may hand `process` other args or end the
// attempt with cancel, snooze or discard; a worker's static `beforeNew` may change a job or
// refuse it before it is inserted.

type Mode = 'run' | 'cancel' | 'snooze' | 'discard' | 'junk';
const processed: { label: string; mode: Mode }[] = [];

@Worker({ queue: 'gate', maxAttempts: 3 })
class Gated {
  async process(job: Job<{ label: string; mode: Mode }>) {
    processed.push(job.args);
  }

  beforeProcess(job: Job<{ label: string; mode: Mode }>) {
    switch (job.args.mode) {
      case 'cancel':
        return cancel('gate closed');
      case 'snooze':
        return snooze(3600);
      case 'discard':
        return discard('not wanted');
      case 'junk':
        return 42 as never;
      default:
        return { args: { ...job.args, label: `${job.args.label}+worker` } };
    }
  }
}

/** Registered without decorators: the same hooks through defineWorker. */
class Signup {
  static beforeNew({ args, options }: NewJob<{ email: string }>): NewJob<{ email: string }> {
    if (!args.email.includes('@')) throw new Error(`not an email address: ${args.email}`);
    return {
      args: { email: args.email.trim().toLowerCase() },
      options: { ...options, tags: ['signup'], priority: 3 },
    };
  }

  async process(_job: Job<{ email: string }>) {}
}
defineWorker(Signup, { queue: 'signups' });

const fromFunction: string[] = [];
const shout = workerFunction(
  'Shout',
  async (job: Job<{ word: string }>) => {
    fromFunction.push(job.args.word);
  },
  {
    queue: 'gate',
    beforeNew: ({ args, options }) => ({ args: { word: args.word.toUpperCase() }, options }),
    beforeProcess: (job) => ({ args: { word: `${job.args.word}!` } }),
  },
);

let koban: Koban;
const reported: string[] = [];

beforeAll(async () => {
  koban = await Koban.start({
    database: await freshDatabase(),
    logger: quietLogger,
    pollInterval: 200,
    queues: { gate: 2 },
    workers: [Gated, Signup, shout],
  });
  koban.on('error', ({ source }) => reported.push(source));
});
afterAll(async () => {
  await koban?.stop();
});

describe('beforeProcess', () => {
  it('hands process the args the node hooks and then the worker hook return; the stored job keeps its own', async () => {
    const unsubscribe = koban.hooks.beforeProcess((job) => {
      const args = job.args as { label: string; mode: Mode };
      return args.label === 'hooked' ? { args: { ...args, label: `${args.label}+node` } } : undefined;
    });
    const job = await koban.insert(newJob(Gated, { label: 'hooked', mode: 'run' }));
    const done = await settled(koban, job.id);
    unsubscribe();
    expect(done.state).toBe('completed');
    expect(processed).toContainEqual({ label: 'hooked+node+worker', mode: 'run' });
    expect(done.args).toEqual({ label: 'hooked', mode: 'run' });
  });

  it('ends the attempt with the cancel, snooze or discard it returns, without calling process', async () => {
    const [cancelled, snoozed, discarded] = await koban.insertAll([
      newJob(Gated, { label: 'c', mode: 'cancel' }),
      newJob(Gated, { label: 's', mode: 'snooze' }),
      newJob(Gated, { label: 'd', mode: 'discard' }),
    ]);
    const ended = await Promise.all([cancelled!, snoozed!, discarded!].map((job) => settled(koban, job.id)));
    expect(ended.map((job) => job.state)).toEqual(['cancelled', 'scheduled', 'discarded']);
    expect(ended[0]!.errors.map((entry) => entry.error)).toEqual(['cancelled: gate closed']);
    expect(ended[1]!.attempt).toBe(0);
    expect(ended[1]!.scheduledAt.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(ended[2]!.errors.map((entry) => entry.error)).toEqual(['discarded: not wanted']);
    expect(processed.filter((args) => ['c', 's', 'd'].includes(args.label))).toEqual([]);
  });

  it('reports a return value it cannot use, and runs the job as it is', async () => {
    const job = await koban.insert(newJob(Gated, { label: 'j', mode: 'junk' }));
    expect((await settled(koban, job.id)).state).toBe('completed');
    expect(processed).toContainEqual({ label: 'j', mode: 'junk' });
    expect(reported).toContain('Gated.beforeProcess');
  });
});

describe('beforeNew', () => {
  it('changes args and options before the insert', async () => {
    const job = await koban.insert(newJob(Signup, { email: '  Ada@Example.COM ' }), { priority: 1 });
    const stored = (await koban.getJob(job.id))!;
    expect(stored.args).toEqual({ email: 'ada@example.com' });
    expect(stored.tags).toEqual(['signup']);
    expect(stored.priority).toBe(3);
  });

  it('refuses a job by throwing, and nothing of its insert is written', async () => {
    await expect(
      koban.insertAll([newJob(Signup, { email: 'grace@example.com' }), newJob(Signup, { email: 'nobody' })]),
    ).rejects.toThrow('not an email address: nobody');
    await expect(
      koban.insertAll(
        workflow()
          .add('ok', newJob(Signup, { email: 'x@example.com' }))
          .add('bad', newJob(Signup, { email: 'y' })),
      ),
    ).rejects.toThrow('not an email address: y');
    const stored = await koban.listJobs({ worker: 'Signup' });
    expect(stored.map((job) => job.args)).toEqual([{ email: 'ada@example.com' }]);
  });

  it('and beforeProcess are options of workerFunction', async () => {
    const job = await koban.insert(newJob(shout, { word: 'hey' }));
    expect((await settled(koban, job.id)).args).toEqual({ word: 'HEY' });
    expect(fromFunction).toEqual(['HEY!']);
    expect(() => workerFunction('BadBefore', async () => {}, { beforeNew: 1 as never })).toThrow(
      KobanConfigError,
    );
  });
});
