import type { Engine } from '../engine/engine.js';
import type { Signal } from '../engine/signals.js';

/** What the poller compares the stored state with: the node's producers and running jobs. */
export interface PolledNode {
  readonly producers: ReadonlyMap<string, { readonly paused: boolean; readonly limit: number }>;
  readonly running: ReadonlyMap<string, unknown>;
}

/**
 * The signals a node that cannot LISTEN missed (behind a pooler in transaction mode without a
 * `listenUrl`): start, stop, pause, resume and scale read back from the stored queue states, and
 * an abort for each running job that is no longer executing (cancelled or deleted). Changes of
 * cluster-wide limits and of stored cron entries are not polled: they need a NOTIFY or a restart. Polled every
 * `pollInterval`, so they apply that much later than a NOTIFY would.
 */
export async function missedSignals(engine: Engine, node: PolledNode): Promise<Signal[]> {
  const signals: Signal[] = [];
  const stored = await engine.readQueueStates();
  for (const [queue, state] of stored) {
    const running = node.producers.has(queue);
    if (state.run === 'started' && !running) signals.push({ action: 'start', queue, state });
    if (state.run === 'stopped' && running) signals.push({ action: 'stop', queue });
  }
  for (const [queue, producer] of node.producers) {
    const state = stored.get(queue);
    if (!state || state.run === 'stopped') continue;
    if (state.paused !== producer.paused) signals.push({ action: state.paused ? 'pause' : 'resume', queue });
    if (state.limit !== null && state.limit !== producer.limit) {
      signals.push({ action: 'scale', queue, limit: state.limit });
    }
  }
  const ids = [...node.running.keys()];
  if (ids.length > 0) {
    const executing = new Set(await engine.stillExecuting(ids));
    const gone = ids.filter((id) => !executing.has(id));
    if (gone.length > 0) signals.push({ action: 'abort', ids: gone });
  }
  return signals;
}
