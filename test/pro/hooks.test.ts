import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type KobanLogger, newJob, type ProcessOutcome } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { logText } from '../support/wait.js';
import { settled } from './support.js';

const calls: string[] = [];

class HookedWorker {
  async process(job: Job<{ label: string; fail?: boolean }>) {
    calls.push(`process ${job.args.label}`);
    if (job.args.fail) throw new Error('process failed');
    return 'done';
  }
  beforeProcess(job: Job<{ label: string }>) {
    calls.push(`worker before ${job.args.label}`);
  }
  afterProcess(job: Job<{ label: string }>, outcome: ProcessOutcome) {
    calls.push(`worker after ${job.args.label} ${outcome.kind}`);
  }
}
defineWorker(HookedWorker, { queue: 'hooks', maxAttempts: 1 });

class ThrowingHooksWorker {
  async process(_job: Job<{ n: number }>) {}
  beforeProcess() {
    throw new Error('worker before broke');
  }
  afterProcess() {
    throw new Error('worker after broke');
  }
}
defineWorker(ThrowingHooksWorker, { queue: 'hooks' });

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

function recordingLogger(): KobanLogger & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    info() {},
    warn() {},
    error: (details, message) => errors.push(logText(details, message)),
  };
}

describe('hooks', () => {
  it('runs global hooks around the worker hooks and process, with the outcome', async () => {
    const koban = await startKoban({ database: url, queues: { hooks: 1 }, workers: [HookedWorker] });
    const outcomes: ProcessOutcome[] = [];
    koban.hooks.beforeProcess((job) => {
      calls.push(`global before ${(job.args as { label: string }).label}`);
    });
    koban.hooks.afterProcess(async (job, outcome) => {
      outcomes.push(outcome);
      calls.push(`global after ${(job.args as { label: string }).label} ${outcome.kind}`);
    });
    const ok = await koban.insert(newJob(HookedWorker, { label: 'a' }));
    await settled(koban, ok.id);
    const failing = await koban.insert(newJob(HookedWorker, { label: 'b', fail: true }));
    await settled(koban, failing.id);
    expect(calls).toEqual([
      'global before a',
      'worker before a',
      'process a',
      'worker after a completed',
      'global after a completed',
      'global before b',
      'worker before b',
      'process b',
      'worker after b error',
      'global after b error',
    ]);
    expect(outcomes[0]).toEqual({ kind: 'completed', result: 'done' });
    expect(outcomes[1]).toMatchObject({ kind: 'error', state: 'discarded' });
  });

  it('logs and reports a throwing hook, and never turns a completed job into a failed one', async () => {
    const logger = recordingLogger();
    const koban = await startKoban({
      database: url,
      queues: { hooks: 1 },
      workers: [ThrowingHooksWorker],
      logger,
    });
    const reported: string[] = [];
    koban.on('error', ({ source }) => reported.push(source));
    koban.hooks.beforeProcess(() => {
      throw new Error('global before broke');
    });
    koban.hooks.afterProcess(async () => {
      throw new Error('global after broke');
    });
    const job = await koban.insert(newJob(ThrowingHooksWorker, { n: 1 }));
    const done = await settled(koban, job.id);
    expect(done.state).toBe('completed');
    expect(done.errors).toEqual([]);
    expect(reported).toEqual([
      'koban.hooks.beforeProcess',
      'ThrowingHooksWorker.beforeProcess',
      'ThrowingHooksWorker.afterProcess',
      'koban.hooks.afterProcess',
    ]);
    expect(logger.errors).toContain(`koban.hooks.afterProcess threw for job ${job.id} (ThrowingHooksWorker)`);
  });

  it('stops calling a hook once unsubscribed', async () => {
    const koban = await startKoban({ database: url, queues: { hooks: 1 }, workers: [HookedWorker] });
    const seen: string[] = [];
    const unsubscribe = koban.hooks.afterProcess((job) => {
      seen.push(job.id);
    });
    const first = await koban.insert(newJob(HookedWorker, { label: 'c' }));
    await settled(koban, first.id);
    unsubscribe();
    const second = await koban.insert(newJob(HookedWorker, { label: 'd' }));
    await settled(koban, second.id);
    expect(seen).toEqual([first.id]);
  });
});
