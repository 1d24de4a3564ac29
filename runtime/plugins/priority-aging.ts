import { KobanConfigError } from '../../sdk/errors.js';
import { checkQueueName } from '../../sdk/worker-options.js';
import type { AgingScope } from '../engine/priority-aging.js';
import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

export interface PriorityAgingOptions {
  /** Seconds a job waits, once due, before its priority is raised. */
  readonly after: number;
  /** Milliseconds between runs; each run raises each job that waited past `after` one step. Default 60000. */
  readonly interval?: number;
  /** The priority jobs are raised to at most (0 is the first). Default 0. */
  readonly floor?: number;
  /** Jobs raised per run at most, the longest waiting first. Default 10000. */
  readonly limit?: number;
  /** Only jobs of these queues. Default: every queue. */
  readonly queues?: readonly string[];
}

/**
 * Priority aging, so that low-priority jobs are not starved by a steady flow of urgent ones
 * (Oban Pro's DynamicPrioritizer): on the leader, every `interval`, each available job that has
 * waited more than `after` seconds since it became due has its priority raised by one step (its
 * number lowered by one), down to `floor`. A job of priority 9 that keeps waiting reaches 0 after
 * nine runs. Add it with `Koban.start({ plugins: [priorityAging({ after: 300 })] })`.
 */
export function priorityAging(options: PriorityAgingOptions): KobanPlugin {
  const interval = options?.interval ?? 60_000;
  const plugin = periodicPlugin(
    'priority aging',
    interval,
    (engine) => engine.agePriorities(checkAging(options)),
    { leaderOnly: true },
  );
  return {
    ...plugin,
    validate() {
      checkAging(options);
      if (!Number.isInteger(interval) || interval < 1) {
        throw new KobanConfigError(
          `priorityAging: interval must be a whole number of milliseconds above 0, got ${JSON.stringify(interval)}`,
        );
      }
    },
  };
}

function checkAging(options: PriorityAgingOptions): AgingScope {
  const where = 'priorityAging';
  if (typeof options !== 'object' || options === null) {
    throw new KobanConfigError(
      `${where}: expected options like { after: 300 }, got ${JSON.stringify(options)}`,
    );
  }
  const { after, floor = 0, limit = 10_000, queues } = options;
  if (typeof after !== 'number' || !Number.isFinite(after) || after < 0) {
    throw new KobanConfigError(
      `${where}: after must be a number of seconds of at least 0, got ${JSON.stringify(after)}`,
    );
  }
  if (!Number.isInteger(floor) || floor < 0 || floor > 9) {
    throw new KobanConfigError(
      `${where}: floor must be a priority from 0 to 9, got ${JSON.stringify(floor)}`,
    );
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KobanConfigError(
      `${where}: limit must be a whole number above 0, got ${JSON.stringify(limit)}`,
    );
  }
  if (queues !== undefined && (!Array.isArray(queues) || queues.length === 0)) {
    throw new KobanConfigError(
      `${where}: queues must be a non-empty list of queue names, got ${JSON.stringify(queues)}`,
    );
  }
  for (const queue of queues ?? []) checkQueueName(queue, `${where}: queues`);
  return { afterSeconds: after, floor, limit, queues: queues ? [...queues] : null };
}
