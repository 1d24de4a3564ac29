import type { Engine } from '../engine/engine.js';
import { changedFlow, type FlowLimits } from '../engine/flow.js';
import type { Signal } from '../engine/signals.js';

/** What the poller compares the stored state with: the node's producers and running jobs. */
export interface PolledNode {
  readonly producers: ReadonlyMap<
    string,
    { readonly paused: boolean; readonly limit: number; readonly flow: FlowLimits | undefined }
  >;
  readonly running: ReadonlyMap<string, unknown>;
  /** The cluster-wide limits a queue was started with on this node, before any stored change. */
  baseFlow(queue: string): FlowLimits | undefined;
}

/**
 * The signals a node that cannot LISTEN missed (behind a pooler in transaction mode without a
 * `listenUrl`), read back from what is stored: start, stop, pause, resume, scale and cluster-wide
 * limits from the queue states; an abort for each running job that is no longer executing
 * (cancelled or deleted); and a cron refresh when the stored cron entries changed. Polled every
 * `pollInterval`, so they apply that much later than a NOTIFY would.
 */
export class SignalPoller {
  /** The stored cron entries' fingerprint at the last poll. */
  private cron: string | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly node: PolledNode,
  ) {}

  /**
   * Reads what the polls compare with; call it before the cron scheduler first reads its
   * entries, so that a change made after that read shows at the next poll.
   */
  async baseline(): Promise<void> {
    this.cron = await this.engine.cronFingerprint();
  }

  async missed(): Promise<Signal[]> {
    const signals = await this.queueSignals();
    const ids = [...this.node.running.keys()];
    if (ids.length > 0) {
      const executing = new Set(await this.engine.stillExecuting(ids));
      const gone = ids.filter((id) => !executing.has(id));
      if (gone.length > 0) signals.push({ action: 'abort', ids: gone });
    }
    const cron = await this.engine.cronFingerprint();
    if (cron !== this.cron) signals.push({ action: 'cron' });
    this.cron = cron;
    return signals;
  }

  private async queueSignals(): Promise<Signal[]> {
    const signals: Signal[] = [];
    const stored = await this.engine.readQueueStates();
    const { producers } = this.node;
    for (const [queue, state] of stored) {
      const running = producers.has(queue);
      if (state.run === 'started' && !running) signals.push({ action: 'start', queue, state });
      if (state.run === 'stopped' && running) signals.push({ action: 'stop', queue });
    }
    for (const [queue, producer] of producers) {
      const state = stored.get(queue);
      if (!state || state.run === 'stopped') continue;
      if (state.paused !== producer.paused)
        signals.push({ action: state.paused ? 'pause' : 'resume', queue });
      if (state.limit !== null && state.limit !== producer.limit) {
        signals.push({ action: 'scale', queue, limit: state.limit });
      }
      if (state.flow) {
        const flow = changedFlow(this.node.baseFlow(queue), state.flow);
        if (!sameFlow(flow, producer.flow)) signals.push({ action: 'configure', queue, flow: state.flow });
      }
    }
    return signals;
  }
}

/** Whether two sets of limits are the same; no limits and an empty set are. */
export function sameFlow(a: FlowLimits | undefined, b: FlowLimits | undefined): boolean {
  return canonical(a) === canonical(b);
}

function canonical(flow: FlowLimits | undefined): string {
  const { global, partition, rateLimit, chains } = flow ?? {};
  // Stored limits come back from jsonb with their keys in another order than configured ones.
  return JSON.stringify(
    [global ?? null, partition ?? null, rateLimit ?? null, chains ?? null],
    (_, value: unknown) =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
        : value,
  );
}
