import type { Executor } from '../database/executor.js';
import type { EngineContext } from './context.js';
import type { JobTracking } from './records.js';
import type { JobTransition } from './transitions.js';

/** Whether some extension hears of this job's changes. */
export function isTracked(ctx: EngineContext, job: JobTracking): boolean {
  for (const extension of ctx.extensions) if (extension.tracks(job)) return true;
  return false;
}

/**
 * Hands transitions to every extension, then the transitions their writes made, until none is
 * left: a cancelled step cancels its dependents, which cancel theirs, in one transaction.
 */
export async function reportTransitions(
  ctx: EngineContext,
  tx: Executor,
  transitions: readonly JobTransition[],
): Promise<void> {
  let pending = transitions.filter((transition) => isTracked(ctx, transition));
  while (pending.length > 0) {
    const next: JobTransition[] = [];
    for (const extension of ctx.extensions) {
      const heard = pending.filter((transition) => extension.tracks(transition));
      if (heard.length === 0) continue;
      for (const made of await extension.onTransitions(tx, heard)) next.push(made);
    }
    pending = next.filter((transition) => isTracked(ctx, transition));
  }
}
