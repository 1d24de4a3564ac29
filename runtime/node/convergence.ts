import { KobanJobCancelledError } from '../../sdk/errors.js';
import type { Engine } from '../engine/engine.js';
import type { StoredQueueState } from '../engine/queues.js';
import type { RunningJob } from './executor.js';
import { Periodic } from './periodic.js';
import type { Producer } from './producer.js';

export interface ConvergenceDeps {
  readonly engine: Engine;
  readonly node: string;
  /** The jobs this node holds, from their claim until their outcome is written. */
  readonly held: ReadonlySet<string>;
  readonly running: ReadonlyMap<string, RunningJob>;
  readonly producers: () => Iterable<Producer>;
  readonly interval: number;
  /** How old an unknown job must be before it is given back: longer than any claim may take. */
  readonly graceMs: number;
  readonly report: (error: unknown) => void;
  /** Takes the stored queue states too: queues started or stopped, limits changed at run time. */
  readonly onStored?: (stored: ReadonlyMap<string, StoredQueueState>) => void;
}

/**
 * Brings a live node back in line with the database, which is the truth, every interval and
 * whenever LISTEN is back: a NOTIFY lost while it was down changes nothing for good. Jobs
 * executing under this node's name that it does not hold (a claim whose reply was lost) are
 * given back; jobs it runs that are no longer executing under it (cancelled, deleted, rescued)
 * are aborted; queues take their stored paused state and limit.
 */
export class Convergence {
  private readonly periodic: Periodic;

  constructor(private readonly deps: ConvergenceDeps) {
    this.periodic = new Periodic(deps.interval, () => this.converge(), deps.report);
  }

  start(): void {
    this.periodic.start(this.deps.interval);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Runs now, beside the schedule (after LISTEN came back). */
  now(): void {
    this.run().catch(this.deps.report);
  }

  /** Runs now, after a run in progress; rejects if it fails. */
  run(): Promise<void> {
    return this.periodic.runNow();
  }

  private async converge(): Promise<void> {
    const { engine, node, held, running } = this.deps;
    // Jobs running before the statement was sent are executing in the database unless something
    // ended them there; one claimed after may be missing from its answer and is left alone.
    const runningBefore = [...running.keys()];
    const { executing } = await engine.reconcileHoldings(node, [...held], this.deps.graceMs);
    const stillExecuting = new Set(executing);
    for (const id of runningBefore) {
      if (!stillExecuting.has(id)) running.get(id)?.abort.abort(new KobanJobCancelledError(id));
    }
    const stored = await engine.readQueueStates();
    for (const producer of this.deps.producers()) {
      const state = stored.get(producer.queue);
      if (!state) continue;
      if (state.paused && !producer.paused) producer.pause();
      else if (!state.paused && producer.paused) producer.resume();
      if (state.limit !== null && state.limit !== producer.limit) producer.scale(state.limit);
    }
    this.deps.onStored?.(stored);
  }
}
