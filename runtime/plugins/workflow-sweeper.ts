import type { Engine } from '../engine/engine.js';
import type { KobanPlugin } from '../plugin.js';
import { periodicPlugin } from './periodic-plugin.js';

/**
 * Resolves held workflow steps whose release was lost (see runtime/engine/workflow-sweep.ts),
 * on the leader only, a window of held steps per run.
 */
export function workflowSweeper(engine: Engine, intervalMs: number): KobanPlugin {
  let after = '0';
  return periodicPlugin(
    'workflow sweeper',
    intervalMs,
    async () => {
      ({ next: after } = await engine.sweepWorkflows(after));
    },
    { leaderOnly: true },
  );
}
