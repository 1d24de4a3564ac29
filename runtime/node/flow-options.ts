import { type Fault, faultError } from '../../sdk/errors.js';
import type { ChainFailure, FlowChange, FlowLimits, PartitionBy } from '../engine/flow.js';

/**
 * A queue's cluster-wide limits as the application writes them, in `Koban.start({ queues })`,
 * `startQueue` and `updateQueue`. Every limit counts slots: a job takes its weight of them (1
 * unless the worker or the job says otherwise).
 */
export interface QueueFlowOptions {
  /** At most `limit` slots executing at once across every node. */
  global?: { limit: number } | undefined;
  /**
   * At most `limit` slots executing at once per partition value (per worker, or per value of
   * some args or meta keys), across every node. With `ordered: true` (and limit 1), a chain: one
   * job per value at a time, in insertion order; `onFailure` says what a discarded or cancelled
   * link does to the rest of its chain (`skip`: the next one runs, the default; `hold`: the chain
   * waits until the link is retried or deleted).
   */
  partition?:
    | {
        by: PartitionBy;
        /** Required, but for a chain (`ordered: true`), whose limit is 1. */
        limit?: number | undefined;
        ordered?: boolean | undefined;
        onFailure?: ChainFailure | undefined;
      }
    | undefined;
  /** At most `allowed` slots started per `period` seconds (a sliding window), per partition value when given. */
  rateLimit?: { allowed: number; period: number; partition?: PartitionBy | undefined } | undefined;
}

/** What `updateQueue` takes: each limit given replaces the current one, `null` removes it. */
export type QueueFlowChange = { [K in keyof QueueFlowOptions]?: QueueFlowOptions[K] | null };

const keyPattern = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** The cluster-wide limits of `options`, checked; `where` names the queue in messages. */
export function checkFlow(options: QueueFlowOptions, where: string, fault: Fault): FlowLimits {
  return changedOnly(options, where, fault) as FlowLimits;
}

/** A change of limits, checked: `null` stays as a removal. */
export function checkFlowChange(change: QueueFlowChange, where: string, fault: Fault): FlowChange {
  return changedOnly(change, where, fault);
}

function changedOnly(options: QueueFlowChange, where: string, fault: Fault): FlowChange {
  const flow: { -readonly [K in keyof FlowChange]: FlowChange[K] } = {};
  if (options.global === null) flow.global = null;
  else if (options.global !== undefined)
    flow.global = count(options.global?.limit, `${where}.global.limit`, fault);
  if (options.partition === null) flow.partition = null;
  else if (options.partition !== undefined) {
    const partition = options.partition;
    const at = `${where}.partition`;
    if (typeof partition !== 'object')
      throw faultError(fault, at, `expected { by, limit }, got ${JSON.stringify(partition)}`);
    const ordered = partition.ordered ?? false;
    if (typeof ordered !== 'boolean')
      throw faultError(fault, `${at}.ordered`, `expected true or false, got ${JSON.stringify(ordered)}`);
    const limit = count(partition.limit ?? (ordered ? 1 : undefined), `${at}.limit`, fault);
    if (ordered && limit !== 1) {
      throw faultError(
        fault,
        `${at}.limit`,
        `an ordered partition (a chain) runs one job per value at a time: limit must be 1, got ${limit}`,
      );
    }
    const onFailure = partition.onFailure ?? 'skip';
    if (onFailure !== 'skip' && onFailure !== 'hold') {
      throw faultError(
        fault,
        `${at}.onFailure`,
        `expected 'skip' or 'hold', got ${JSON.stringify(onFailure)}`,
      );
    }
    if (partition.onFailure !== undefined && !ordered) {
      throw faultError(fault, `${at}.onFailure`, 'applies to chains only: add ordered: true');
    }
    flow.partition = { by: checkBy(partition.by, `${at}.by`, fault), limit, ordered, onFailure };
  }
  if (options.rateLimit === null) flow.rateLimit = null;
  else if (options.rateLimit !== undefined) {
    const rate = options.rateLimit;
    const at = `${where}.rateLimit`;
    if (typeof rate !== 'object')
      throw faultError(fault, at, `expected { allowed, period }, got ${JSON.stringify(rate)}`);
    const allowed = count(rate.allowed, `${at}.allowed`, fault);
    if (!(typeof rate.period === 'number' && Number.isFinite(rate.period) && rate.period > 0)) {
      throw faultError(
        fault,
        `${at}.period`,
        `expected a positive number of seconds, got ${JSON.stringify(rate.period)}`,
      );
    }
    flow.rateLimit = {
      allowed,
      periodMs: Math.round(rate.period * 1000),
      ...(rate.partition === undefined ? {} : { by: checkBy(rate.partition, `${at}.partition`, fault) }),
    };
  }
  return flow;
}

function count(value: unknown, where: string, fault: Fault): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 1_000_000) {
    throw faultError(fault, where, `expected an integer from 1 to 1000000, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function checkBy(by: unknown, where: string, fault: Fault): PartitionBy {
  if (by === 'worker') return 'worker';
  const keys = (field: 'args' | 'meta', value: unknown): readonly string[] => {
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      value.some((key) => typeof key !== 'string' || !keyPattern.test(key))
    ) {
      throw faultError(
        fault,
        `${where}.${field}`,
        `expected a non-empty list of key names, got ${JSON.stringify(value)}`,
      );
    }
    return [...value];
  };
  if (typeof by === 'object' && by !== null && Object.keys(by).length === 1) {
    if ('args' in by) return { args: keys('args', by.args) };
    if ('meta' in by) return { meta: keys('meta', by.meta) };
  }
  throw faultError(
    fault,
    where,
    `expected 'worker', { args: [...] } or { meta: [...] }, got ${JSON.stringify(by)}`,
  );
}
