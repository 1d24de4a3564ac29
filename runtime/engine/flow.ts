import type { ClaimedJob } from './claim.js';
import type { QueuePosition } from './queue-position.js';

/** What splits a queue's jobs into partitions: the worker, or the values of some args or meta keys. */
export type PartitionBy =
  | 'worker'
  | { readonly args: readonly string[] }
  | { readonly meta: readonly string[] };

/** What a discarded or cancelled link does to the rest of its chain. */
export type ChainFailure = 'skip' | 'hold';

export interface PartitionLimit {
  readonly by: PartitionBy;
  /** Slots executing at once per partition value, across the cluster. */
  readonly limit: number;
  /** A chain: one job per partition value at a time, in insertion order (limit 1). */
  readonly ordered: boolean;
  readonly onFailure: ChainFailure;
}

export interface RateLimit {
  /** Slots started per `periodMs`, across the cluster (a sliding window). */
  readonly allowed: number;
  readonly periodMs: number;
  /** Counted per partition value when given. */
  readonly by?: PartitionBy | undefined;
}

/**
 * A chained worker's jobs in its queue (`@Worker({ chain })`): one per chain value at a time, in
 * insertion order. The other workers of the queue are not held by it.
 */
export interface WorkerChainLimit {
  /** The worker's stored name and its aliases. */
  readonly workers: readonly string[];
  readonly by: PartitionBy;
  readonly onFailure: ChainFailure;
}

/**
 * The cluster-wide limits of a queue, beside each node's own limit. Every limit is derived, at each
 * claim, from the jobs' rows (executing jobs) or from the starts recorded in the claim's own
 * transaction, never from a counter that a crash could strand.
 */
export interface FlowLimits {
  /** Slots executing at once across the cluster. */
  readonly global?: number | undefined;
  readonly partition?: PartitionLimit | undefined;
  readonly rateLimit?: RateLimit | undefined;
  /** From the workers' code, not stored: never changed by `updateQueue`. */
  readonly chains?: readonly WorkerChainLimit[] | undefined;
}

/** `finished`: the node's jobs whose attempts ended, their slots free; `after`: see `claimsInOrder`. */
export interface LimitedClaimOptions {
  /** The server ends the claim past it: a claim that hangs holding the queue's lock would stop the queue. */
  readonly deadlineMs?: number | undefined;
  readonly finished?: readonly string[] | undefined;
  readonly after?: QueuePosition | undefined;
}

/**
 * Whether a limited claim takes jobs in the queue's order and passes none over that a later claim
 * could take: with a global limit, or a rate limit without keys, it cuts the queue from the front.
 * Such a claim may start past the last job the one before took, as a plain claim does (see
 * runtime/node/claim-floor.ts). Partitions and chains pass over the jobs of full partitions and
 * of links that are not their chain's head, which must stay in reach of every claim.
 */
export function claimsInOrder(flow: FlowLimits): boolean {
  return flow.partition === undefined && (flow.chains?.length ?? 0) === 0 && flow.rateLimit?.by === undefined;
}

/** What a limited claim returns: the jobs, and when to look again if limits held jobs back. */
export interface LimitedClaim {
  readonly jobs: ClaimedJob[];
  /** Where the last job taken was, for a claim that takes its jobs in the queue's order (`claimsInOrder`). */
  readonly last?: QueuePosition | undefined;
  /** Available jobs were left because a cluster limit was reached (not for lack of local slots). */
  readonly held: boolean;
  /** Milliseconds until the rate window has room again, when the rate limit held jobs back. */
  readonly retryInMs: number | null;
}

/** The meta key that carries a job's weight when it is not 1. */
export const weightKey = 'koban_weight';

/**
 * The heaviest job that fits every weighed limit of a queue (a chain's counts jobs, not weights);
 * undefined without one.
 */
export function weightCap(flow: FlowLimits): number | undefined {
  const limits = [
    flow.global,
    flow.partition && !flow.partition.ordered ? flow.partition.limit : undefined,
    flow.rateLimit?.allowed,
  ].filter((limit): limit is number => limit !== undefined);
  return limits.length === 0 ? undefined : Math.min(...limits);
}

/** Whether a queue has any cluster-wide limit: only such queues take the limited claim. */
export function isLimited(flow: FlowLimits | undefined): flow is FlowLimits {
  return (
    flow !== undefined &&
    (flow.global !== undefined ||
      flow.partition !== undefined ||
      flow.rateLimit !== undefined ||
      (flow.chains?.length ?? 0) > 0)
  );
}

/** A change of a queue's limits as stored: each limit given is set, each null is removed. */
export type FlowChange = {
  readonly [K in Exclude<keyof FlowLimits, 'chains'>]?: FlowLimits[K] | null;
};

/** The limits a node applies: those it started with, changed by what was stored since. */
export function changedFlow(base: FlowLimits | undefined, change: FlowChange | null | undefined): FlowLimits {
  const flow: { -readonly [K in keyof FlowLimits]: FlowLimits[K] } = { ...base };
  for (const name of ['global', 'partition', 'rateLimit'] as const) {
    if (change?.[name] === null) delete flow[name];
    else if (change?.[name] !== undefined) (flow as Record<string, unknown>)[name] = change[name];
  }
  return flow;
}
