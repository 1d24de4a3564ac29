import { describe, expect, expectTypeOf, it } from 'vitest';
import { type BatchCallbacks, defineWorker, getWorkerDefinition, type Job, Worker } from '../../index.js';

// The callbacks are typed by sdk: `implements BatchCallbacks<Args>` types their jobs, and a
// `handle…` method that is not a callback (a typo) fails to compile where the worker is defined.

@Worker({ queue: 'typed' })
class Mailer implements BatchCallbacks<{ email: string }> {
  async process(_job: Job<{ email: string }>) {}
  async handleCompleted(job: Job<{ email: string }>) {
    expectTypeOf(job.args.email).toBeString();
    expectTypeOf(job.batch?.id).toEqualTypeOf<string | undefined>();
  }
}

describe('batch callback types', () => {
  it('accept the six callbacks', () => {
    expect(getWorkerDefinition(Mailer).queue).toBe('typed');
  });

  it('refuse a misspelt callback on a decorated class and in defineWorker', () => {
    // @ts-expect-error handleCompletd is not a batch callback
    @Worker({ queue: 'typed' })
    class Misspelt {
      async process() {}
      async handleCompletd() {}
    }
    class AlsoMisspelt {
      async process() {}
      async handleExhaust() {}
    }
    // @ts-expect-error handleExhaust is not a batch callback
    defineWorker(AlsoMisspelt, { queue: 'typed' });
    expect(getWorkerDefinition(Misspelt).name).toBe('Misspelt');
  });
});
