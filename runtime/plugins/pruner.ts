import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

export interface PrunerOptions {
  /** Seconds a finished job is kept. */
  readonly maxAge: number;
  /** Milliseconds between runs. */
  readonly interval: number;
  /** Jobs deleted per run at most. */
  readonly limit: number;
}

/** Deletes old finished jobs, on the leader only. */
export function pruner(options: PrunerOptions): KobanPlugin {
  return periodicPlugin('pruner', options.interval, (engine) => engine.prune(options.maxAge, options.limit), {
    leaderOnly: true,
  });
}

/** Milliseconds between prunes of the metrics history. */
const metricsPruneInterval = 60_000;

/** Deletes metrics history older than `maxAgeSeconds`, on the leader only. */
export function metricsPruner(maxAgeSeconds: number): KobanPlugin {
  return periodicPlugin(
    'metrics pruner',
    metricsPruneInterval,
    (engine) => engine.pruneMetrics(maxAgeSeconds),
    {
      leaderOnly: true,
    },
  );
}
