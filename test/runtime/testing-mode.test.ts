import { withTestingMode } from 'koban/testing';
import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanConfigError, newJob } from '../../index.js';
import { backends, startOn } from '../workflows/support.js';

// withTestingMode switches a node's testing mode for one call and what it starts, and only there.

class Greeter {
  async process(_job: Job<{ name: string }>) {}
}
defineWorker(Greeter, { queue: 'greetings' });

/** Inserts a Greeter job once it is past a barrier, so two contexts interleave their inserts. */
async function insertAfter(barrier: Promise<void>, insert: () => Promise<{ state: string }>) {
  await barrier;
  return (await insert()).state;
}

describe.each(backends)('withTestingMode on %s', (backend) => {
  it('runs inserts inline on a manual node, only inside the call', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers: [Greeter] });
    const before = await koban.insert(newJob(Greeter, { name: 'before' }));
    const inside = await withTestingMode('inline', async () => {
      // Also after an await: the mode follows the call's asynchronous context.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return koban.insert(newJob(Greeter, { name: 'inside' }));
    });
    const after = await koban.insert(newJob(Greeter, { name: 'after' }));
    expect(before.state).toBe('available');
    expect(inside.state).toBe('completed');
    expect(after.state).toBe('available');
  });

  it('keeps inserts for the asserts on an inline node, only inside the call', async () => {
    const koban = await startOn(backend, { testing: 'inline', workers: [Greeter] });
    const inside = await withTestingMode('manual', () => koban.insert(newJob(Greeter, { name: 'inside' })));
    const after = await koban.insert(newJob(Greeter, { name: 'after' }));
    expect(inside.state).toBe('available');
    expect(after.state).toBe('completed');
  });

  it('keeps concurrent calls in their own modes', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers: [Greeter] });
    let open!: () => void;
    const barrier = new Promise<void>((resolve) => {
      open = resolve;
    });
    const inline = withTestingMode('inline', () =>
      insertAfter(barrier, () => koban.insert(newJob(Greeter, { name: 'inline' }))),
    );
    const manual = withTestingMode('manual', () =>
      insertAfter(barrier, () => koban.insert(newJob(Greeter, { name: 'manual' }))),
    );
    open();
    expect(await Promise.all([inline, manual])).toEqual(['completed', 'available']);
  });
});

describe('withTestingMode', () => {
  it('refuses an unknown mode, naming it', () => {
    expect(() => withTestingMode('auto' as never, () => undefined)).toThrow(
      new KobanConfigError(`withTestingMode: expected 'manual' or 'inline', got "auto"`),
    );
  });
});
