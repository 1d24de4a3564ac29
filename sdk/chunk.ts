import { KobanConfigError } from './errors.js';
import type { Job } from './job.js';
import type { ControlOutcome } from './results.js';

/**
 * What a chunk's jobs share besides their worker: the values of some args keys, meta keys, or
 * both. `'worker'` (the default) puts every job of the worker in the same chunks.
 */
export type ChunkBy<Args = any> =
  | 'worker'
  | { readonly args: readonly (keyof Args & string)[]; readonly meta?: readonly string[] }
  | { readonly args?: readonly (keyof Args & string)[]; readonly meta: readonly string[] };

/** `@Worker({ chunk })`: `process` gets a list of up to `size` jobs instead of one. */
export interface ChunkOptions<Args = any> {
  /** Most jobs one call of `process` gets. Default 100. */
  readonly size?: number;
  /**
   * Milliseconds a chunk waits, from its first job, for `size` jobs; then `process` runs with
   * what it has. Default 1000.
   */
  readonly timeout?: number;
  readonly by?: ChunkBy<Args>;
}

/** A chunk worker's options after defaults and checks. */
export interface ChunkDefinition {
  readonly size: number;
  readonly timeout: number;
  /** The args and meta keys whose values a chunk's jobs share; both empty for `'worker'`. */
  readonly args: readonly string[];
  readonly meta: readonly string[];
}

/**
 * What one job of a chunk comes to, in the map `process` may return: `cancel`, `snooze`,
 * `discard`, an Error (the job fails: retried, or discarded after its last attempt), or anything
 * else (the job completes; a `@Recorded` worker stores that value as the job's result).
 */
export type ChunkJobOutcome<Result = never> = ControlOutcome | Error | void | undefined | Result;

/**
 * What a chunk worker's `process` returns: nothing (every job completes), one control outcome for
 * every job, or a map from jobs (or their ids) to outcomes, where a job left out completes. A
 * throw fails every job of the chunk.
 */
export type ChunkResult<Result = never> =
  | void
  | undefined
  | ControlOutcome
  | ReadonlyMap<Job<any, any> | string, ChunkJobOutcome<Result>>;

/** The result one job of a chunk worker records: the map's values, less outcomes and errors. */
export type ChunkResultOf<Returned> =
  Returned extends ReadonlyMap<any, infer Value> ? Exclude<Value, ControlOutcome | Error> : undefined;

export const defaultChunkSize = 100;
export const defaultChunkTimeoutMs = 1000;
const largestChunk = 10_000;
const longestChunkWaitMs = 3_600_000;
const keyPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Checks `@Worker({ chunk })` and fills in its defaults; a message names the option that is wrong. */
export function chunkDefinition(options: unknown, where: string): ChunkDefinition {
  const at = `${where}: chunk`;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KobanConfigError(
      `${at} must be an object such as { size: 100, timeout: 1000 }, got ${JSON.stringify(options)}`,
    );
  }
  const {
    size = defaultChunkSize,
    timeout = defaultChunkTimeoutMs,
    by = 'worker',
    ...rest
  } = options as ChunkOptions;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new KobanConfigError(`${at} has unknown option ${unknown[0]}: expected size, timeout or by`);
  }
  if (!Number.isInteger(size) || size < 1 || size > largestChunk) {
    throw new KobanConfigError(
      `${at}.size must be an integer from 1 to ${largestChunk}, got ${JSON.stringify(size)}`,
    );
  }
  if (!Number.isFinite(timeout) || timeout < 0 || timeout > longestChunkWaitMs) {
    throw new KobanConfigError(
      `${at}.timeout must be milliseconds from 0 to ${longestChunkWaitMs} (an hour), got ${JSON.stringify(timeout)}`,
    );
  }
  return { size, timeout, ...groupKeys(by, `${at}.by`) };
}

function groupKeys(by: unknown, at: string): { args: string[]; meta: string[] } {
  if (by === 'worker') return { args: [], meta: [] };
  const shape = `expected 'worker', { args: [...] }, { meta: [...] } or both lists, got ${JSON.stringify(by)}`;
  if (typeof by !== 'object' || by === null || Array.isArray(by))
    throw new KobanConfigError(`${at}: ${shape}`);
  const { args, meta, ...rest } = by as { args?: unknown; meta?: unknown };
  if (Object.keys(rest).length > 0 || (args === undefined && meta === undefined)) {
    throw new KobanConfigError(`${at}: ${shape}`);
  }
  const keys = (field: 'args' | 'meta', value: unknown): string[] => {
    if (value === undefined) return [];
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      value.some((key) => typeof key !== 'string' || !keyPattern.test(key))
    ) {
      throw new KobanConfigError(
        `${at}.${field}: expected a non-empty list of key names (letters, digits, '_', '.', ':', '-'), got ${JSON.stringify(value)}`,
      );
    }
    return [...value];
  };
  return { args: keys('args', args), meta: keys('meta', meta) };
}

type ProcessParameter<W> = W extends new () => infer I
  ? I extends { process(job: infer J, ...rest: any[]): any }
    ? J
    : never
  : never;

type TakesList<W> = [ProcessParameter<W>] extends [readonly unknown[]] ? true : false;
type HasChunk<O> = O extends { readonly chunk: object } ? true : false;

/**
 * The class `@Worker` accepts, as far as chunks go: `process(jobs: Job<Args>[])` with a `chunk`
 * option, `process(job: Job<Args>)` without one. Either mismatch fails to compile at the decorator.
 */
export type ChunkShaped<W, O> = [HasChunk<O>] extends [TakesList<W>]
  ? W
  : HasChunk<O> extends true
    ? W & { readonly 'a chunk worker takes a list: process(jobs: Job<Args>[])': never }
    : W & { readonly 'process takes a list of jobs only with @Worker({ chunk })': never };
