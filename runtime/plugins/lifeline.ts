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
}): KobanPlugin {
  return periodicPlugin(
    'lifeline',
    options.interval,
    async (engine) => {
      if (options.mayRescue()) await engine.rescue(options.rescueAfter);
    },
    { leaderOnly: true },
  );
}
