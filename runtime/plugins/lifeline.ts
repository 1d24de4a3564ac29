import type { Engine } from '../engine/engine.js';
import type { KobanPlugin } from '../plugin.js';
import { periodicPlugin } from './periodic-plugin.js';

/**
 * Rescues the executing jobs of nodes that stopped heartbeating (or restarted), on the leader
 * only, every heartbeat interval.
 */
export function lifeline(engine: Engine, options: { rescueAfter: number; interval: number }): KobanPlugin {
  return periodicPlugin('lifeline', options.interval, () => engine.rescue(options.rescueAfter), {
    leaderOnly: true,
  });
}
