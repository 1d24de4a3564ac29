import type { Workflows } from '../workflows/workflows.js';
import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

/**
 * Resolves held workflow steps whose release was lost (see runtime/workflows/sweep.ts), on the
 * leader only, a window of held steps per run.
 */
export function workflowSweeper(workflows: Workflows, intervalMs: number): KobanPlugin {
  let after = '0';
  return periodicPlugin(
    'workflow sweeper',
    intervalMs,
    async () => {
      ({ next: after } = await workflows.sweep(after));
    },
    { leaderOnly: true },
  );
}
