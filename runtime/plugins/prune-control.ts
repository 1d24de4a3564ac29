import { KobanValidationError } from '../../sdk/errors.js';
import { getWorkerDefinition } from '../../sdk/registry.js';
import type { WorkerClass } from '../../sdk/worker.js';
import { checkQueueName } from '../../sdk/worker-options.js';
import type { Engine } from '../engine/engine.js';
import type { PruneMatch, StoredPruneRule } from '../engine/prune-rules.js';

const finalStates = ['completed', 'cancelled', 'discarded'] as const;

/** Which finished jobs a retention rule is for: any of these, at least one. */
export interface PruneRuleMatch {
  readonly queue?: string;
  /** A worker class, its generated builder, or its stored name. */
  readonly worker?: string | WorkerClass | { readonly worker: WorkerClass };
  readonly state?: (typeof finalStates)[number];
}

export interface PruneRule {
  readonly queue: string | null;
  readonly worker: string | null;
  readonly state: (typeof finalStates)[number] | null;
  /** Seconds its jobs are kept after they finish, or `'infinity'`. */
  readonly maxAge: number | 'infinity';
  readonly updatedAt: Date;
}

/**
 * The pruner's retention rules, stored and changed at run time (Oban Pro's DynamicPruner): how
 * long finished jobs of a queue, a worker or a final state (or a combination) are kept, over the
 * `prune.maxAge` of the configuration. The leader's pruner reads them at each run, so a change
 * applies on the next run, on whichever node leads, and survives restarts.
 */
export class PruneControl {
  constructor(private readonly engine: Engine) {}

  /** Adds the rule of `match`, or changes its age: `set({ queue: 'audit' }, 'infinity')`. */
  async set(match: PruneRuleMatch, maxAge: number | 'infinity'): Promise<PruneRule> {
    const where = 'pruner.set';
    const checked = checkMatch(match, where);
    if (maxAge !== 'infinity' && !(Number.isInteger(maxAge) && maxAge > 0 && maxAge < 2_147_483_647)) {
      throw new KobanValidationError([
        {
          path: `${where}: maxAge`,
          message: `expected a whole number of seconds above 0, or 'infinity', got ${JSON.stringify(maxAge)}`,
        },
      ]);
    }
    return toRule(await this.engine.setPruneRule(checked, maxAge === 'infinity' ? null : maxAge));
  }

  /** Removes the rule of exactly `match`; its jobs fall back on the next closest rule. False when there is none. */
  async delete(match: PruneRuleMatch): Promise<boolean> {
    return this.engine.deletePruneRule(checkMatch(match, 'pruner.delete'));
  }

  /** Every rule, the closest matches first (a worker counts most, then a queue, then a state). */
  async list(): Promise<PruneRule[]> {
    return (await this.engine.listPruneRules()).map(toRule);
  }
}

function toRule(row: StoredPruneRule): PruneRule {
  return {
    queue: row.queue,
    worker: row.worker,
    state: row.state,
    maxAge: row.maxAge ?? 'infinity',
    updatedAt: new Date(row.updatedAt),
  };
}

function checkMatch(match: PruneRuleMatch, where: string): PruneMatch {
  const fail = (path: string, message: string) => {
    throw new KobanValidationError([{ path: `${where}: ${path}`, message }]);
  };
  if (typeof match !== 'object' || match === null) {
    return fail('match', `expected { queue, worker, state } (any of them), got ${JSON.stringify(match)}`);
  }
  const { queue, worker, state } = match;
  if (queue === undefined && worker === undefined && state === undefined) {
    fail('match', 'name a queue, a worker or a state (or several): a rule for every job is prune.maxAge');
  }
  if (queue !== undefined) checkQueueName(queue, where, 'argument');
  if (state !== undefined && !finalStates.includes(state)) {
    fail('state', `expected one of ${finalStates.join(', ')}, got ${JSON.stringify(state)}`);
  }
  return {
    queue: queue ?? null,
    worker: worker === undefined ? null : workerName(worker, fail),
    state: state ?? null,
  };
}

function workerName(
  worker: NonNullable<PruneRuleMatch['worker']>,
  fail: (path: string, message: string) => never,
) {
  if (typeof worker === 'string') {
    return worker.trim() === '' ? fail('worker', 'expected a worker name, got an empty string') : worker;
  }
  const target = typeof worker === 'function' ? worker : worker?.worker;
  if (typeof target !== 'function')
    return fail('worker', `expected a worker class or name, got ${String(worker)}`);
  return getWorkerDefinition(target).name;
}
