import { Cron } from 'croner';
import { emptyCounts, type JobState } from '../../sdk/states.js';
import type { StoredCluster, StoredCronRun, StoredQueueCounts } from '../engine/cluster-reads.js';

/** A queue as the whole cluster sees it. */
export interface QueueOverview {
  readonly name: string;
  /** Jobs per state, finished ones (in the history) included. */
  readonly counts: Record<JobState, number>;
  /** Whether the finished counts are estimates (a history of more than 200,000 jobs is sampled). */
  readonly estimated: boolean;
  /** How long the oldest available job has waited since it became due, in ms; null when none waits. */
  readonly oldestAvailableAgeMs: number | null;
  /** Paused on every live node that runs it (or stored paused, when none runs it). */
  readonly paused: boolean;
  /** The limit set by `scaleQueue`, if any; each node's own is in `nodes`. */
  readonly limit: number | null;
  /** The live nodes that run it, with their limit, paused state and running jobs. */
  readonly nodes: readonly { node: string; limit: number; paused: boolean; running: number }[];
}

export interface NodeOverview {
  readonly name: string;
  readonly queues: readonly { queue: string; limit: number; paused: boolean; running: number }[];
  readonly cron: readonly string[];
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  /** Whether its last heartbeat is recent (within `staleAfterMs` of connect's options). */
  readonly alive: boolean;
  readonly leader: boolean;
}

export interface CronOverview {
  readonly name: string;
  /** Null for an entry no live node has any more (seen only in its past jobs). */
  readonly expression: string | null;
  readonly timezone: string | null;
  readonly worker: string | null;
  /** The live nodes that have the entry. */
  readonly nodes: readonly string[];
  readonly lastRun: { jobId: string; state: JobState; tick: string | null; insertedAt: Date } | null;
  /** The next tick, by the expression; null when paused or without a live node to fire it. */
  readonly nextRunAt: Date | null;
  /** `database`: stored (koban.cron); `config`: from a node's `Koban.start({ cron })`. Either may be run, paused and resumed from here. */
  readonly source: 'database' | 'config';
  readonly paused: boolean;
}

/** A stored entry, as the cron control lists it. */
export interface StoredCronView {
  readonly name: string;
  readonly source: 'database' | 'config';
  readonly expression: string;
  readonly timezone: string | null;
  readonly worker: string;
  readonly paused: boolean;
  readonly nextTick: Date | null;
}

export function queueOverviews(
  counts: StoredQueueCounts[],
  cluster: StoredCluster,
  staleAfterMs: number,
): QueueOverview[] {
  const now = Date.now();
  const live = cluster.nodes.filter((node) => node.silentMs < staleAfterMs);
  return counts.map((queue) => {
    const nodes = live.flatMap((node) =>
      (node.report.queues ?? [])
        .filter((entry) => entry.queue === queue.queue)
        .map((entry) => ({
          node: node.name,
          limit: entry.limit,
          paused: entry.paused,
          running: entry.running,
        })),
    );
    const paused = nodes.length > 0 ? nodes.every((node) => node.paused) : (queue.stored?.paused ?? false);
    return {
      name: queue.queue,
      counts: { ...emptyCounts(), ...queue.counts },
      estimated: queue.estimated,
      oldestAvailableAgeMs: queue.oldestAvailableAt
        ? Math.max(0, now - queue.oldestAvailableAt.getTime())
        : null,
      paused,
      limit: queue.stored?.limit ?? null,
      nodes,
    };
  });
}

export function nodeOverviews(cluster: StoredCluster, staleAfterMs: number): NodeOverview[] {
  return cluster.nodes.map((node) => ({
    name: node.name,
    queues:
      node.report.queues ?? node.queues.map((queue) => ({ queue, limit: 0, paused: false, running: 0 })),
    cron: (node.report.cron ?? []).map((entry) => entry.name),
    startedAt: node.startedAt,
    heartbeatAt: node.heartbeatAt,
    alive: node.silentMs < staleAfterMs,
    leader: cluster.leader?.node === node.name,
  }));
}

/** Cron entries from the live nodes' reports, with the last job of each and the next tick. */
export function cronOverviews(
  cluster: StoredCluster,
  runs: StoredCronRun[],
  stored: readonly StoredCronView[],
  /** The configured entries an operator paused. */
  paused: ReadonlySet<string>,
  staleAfterMs: number,
): CronOverview[] {
  const entries = new Map<
    string,
    { expression: string; timezone: string | null; worker: string; nodes: string[] }
  >();
  for (const node of cluster.nodes) {
    if (node.silentMs >= staleAfterMs) continue;
    for (const entry of node.report.cron ?? []) {
      const known = entries.get(entry.name);
      if (known) known.nodes.push(node.name);
      else entries.set(entry.name, { ...entry, nodes: [node.name] });
    }
  }
  const lastRuns = new Map(runs.map((run) => [run.name, run]));
  const inDatabase = new Map(
    stored.filter((entry) => entry.source === 'database').map((entry) => [entry.name, entry]),
  );
  const names = [...new Set([...entries.keys(), ...lastRuns.keys(), ...inDatabase.keys()])].sort();
  return names.map((name) => {
    const run = lastRuns.get(name);
    const saved = inDatabase.get(name);
    if (saved) {
      return {
        name,
        expression: saved.expression,
        timezone: saved.timezone,
        worker: saved.worker,
        nodes: cluster.nodes.filter((node) => node.silentMs < staleAfterMs).map((node) => node.name),
        lastRun: run
          ? { jobId: run.jobId, state: run.state, tick: run.tick, insertedAt: run.insertedAt }
          : null,
        nextRunAt: saved.nextTick,
        source: 'database' as const,
        paused: saved.paused,
      };
    }
    const entry = entries.get(name);
    const isPaused = paused.has(name);
    return {
      source: 'config' as const,
      paused: isPaused,
      name,
      expression: entry?.expression ?? null,
      timezone: entry?.timezone ?? null,
      worker: entry?.worker ?? null,
      nodes: entry?.nodes ?? [],
      lastRun: run
        ? { jobId: run.jobId, state: run.state, tick: run.tick, insertedAt: run.insertedAt }
        : null,
      nextRunAt: entry && !isPaused ? nextTick(entry.expression, entry.timezone) : null,
    };
  });
}

function nextTick(expression: string, timezone: string | null): Date | null {
  try {
    return new Cron(expression, { timezone: timezone ?? undefined, paused: true }).nextRun();
  } catch {
    return null; // a node validated it at its start; a newer croner may read it differently
  }
}
