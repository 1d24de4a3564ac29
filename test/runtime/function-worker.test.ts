import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ArgsOf,
  getWorkerDefinition,
  type Job,
  KobanConfigError,
  newJob,
  workerFunction,
} from '../../index.js';
import { drainJobs } from '../../runtime/testing.js';
import { startKoban } from '../support/koban.js';

// A worker from a function: no class to write, the same jobs, options and types.

const sent: string[] = [];
const sendEmail = workerFunction(
  'SendEmail',
  async (job: Job<{ to: string }>) => {
    sent.push(job.args.to);
    return job.args.to.length;
  },
  { queue: 'function_mail', maxAttempts: 4 },
);

describe('workerFunction', () => {
  it('defines a worker whose jobs run the function, typed by its job', async () => {
    expectTypeOf<ArgsOf<typeof sendEmail>>().toEqualTypeOf<{ to: string }>();
    expect(getWorkerDefinition(sendEmail)).toMatchObject({
      name: 'SendEmail',
      queue: 'function_mail',
      maxAttempts: 4,
    });
    const koban = await startKoban({ testing: 'manual', workers: [sendEmail] });
    const job = await koban.insert(newJob(sendEmail, { to: 'ada@example.com' }));
    expect(job).toMatchObject({ worker: 'SendEmail', queue: 'function_mail', maxAttempts: 4 });
    expect(await drainJobs(koban)).toMatchObject({ completed: 1 });
    expect(sent).toEqual(['ada@example.com']);
    // @ts-expect-error the args are typed from the function's job
    newJob(sendEmail, { to: 1 });
  });

  it('refuses what is not a function, and bad options, naming the worker', () => {
    expect(() => workerFunction('Broken', 'nope' as never)).toThrow(
      'workerFunction("Broken"): expected a function, got nope',
    );
    expect(() => workerFunction('BadQueue', async () => {}, { queue: 'has space' })).toThrow(
      KobanConfigError,
    );
  });
});
