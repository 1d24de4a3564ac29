import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

/**
 * Rescues the executing jobs of nodes that stopped heartbeating (or restarted), on the leader
 * only, every heartbeat interval, unless `mayRescue` says to wait (after an outage).
 */
export function lifeline(options: {
  rescueAfter: number;
  interval: number;
  mayRescue: () => boolean;
  /** Told how many jobs a run rescued, when it rescued any. */
  onRescued?: (count: number) => void;
}): KobanPlugin {
  return periodicPlugin(
    'lifeline',
    options.interval,
    async (engine) => {
      if (!options.mayRescue()) return;
      const rescued = await engine.rescue(options.rescueAfter);
      if (rescued > 0) options.onRescued?.(rescued);
    },
    { leaderOnly: true },
  );
}
