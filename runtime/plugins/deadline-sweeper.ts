import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

/** Jobs ended per statement: a backlog past its deadline goes in several, none of them long. */
const batchSize = 1000;

/**
 * Ends the jobs whose deadline passed before they started, on the leader. Claims already skip
 * them on every node; this gives them their final state and reason.
 */
export function deadlineSweeper(intervalMs: number): KobanPlugin {
  return periodicPlugin(
    'deadline sweeper',
    intervalMs,
    async (engine) => {
      let ended: number;
      do ended = await engine.expireDeadlines(batchSize);
      while (ended === batchSize);
    },
    { leaderOnly: true },
  );
}
