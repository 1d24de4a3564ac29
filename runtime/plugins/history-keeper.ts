import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

/** Rows moved per statement when finished jobs are found still in `jobs`. */
const moveBatch = 5000;
/** Statements per run at most, so that one run stays short however large the backlog. */
const batchesPerRun = 20;

/**
 * Keeps the history ready, on the leader only: partitions for the next days, and the online move
 * of finished jobs still in `jobs` (those finished before the history existed, or by a node of an
 * older version), a batch at a time.
 */
export function historyKeeper(intervalMs: number): KobanPlugin {
  return periodicPlugin(
    'history keeper',
    intervalMs,
    async (engine) => {
      for (let run = 0; run < batchesPerRun; run++) {
        if ((await engine.maintainHistory(3, moveBatch)) < moveBatch) return;
      }
    },
    { leaderOnly: true },
  );
}
