import { AsyncLocalStorage } from 'node:async_hooks';
import { KobanConfigError } from '../../../sdk/errors.js';

/** The testing modes a node can be started in, and switched to for the length of a call. */
export type TestingMode = 'manual' | 'inline';

const override = new AsyncLocalStorage<TestingMode>();

/**
 * Runs `fn` with every node started with a testing mode acting in `mode` for the inserts `fn`
 * makes, and for those made by whatever it starts (as Oban's `with_testing_mode`). The switch
 * follows the asynchronous context, not the clock: concurrent tests that switch to different
 * modes do not see each other's. A node that runs its queues has no testing mode and ignores it.
 */
export function withTestingMode<T>(mode: TestingMode, fn: () => T | Promise<T>): Promise<T> {
  if (mode !== 'manual' && mode !== 'inline') {
    throw new KobanConfigError(`withTestingMode: expected 'manual' or 'inline', got ${JSON.stringify(mode)}`);
  }
  if (typeof fn !== 'function') {
    throw new KobanConfigError(`withTestingMode: expected a function to run, got ${typeof fn}`);
  }
  return override.run(mode, async () => fn());
}

/** The mode in force here: the one `withTestingMode` switched to, or the node's own. */
export function testingModeHere(own: TestingMode): TestingMode {
  return override.getStore() ?? own;
}
