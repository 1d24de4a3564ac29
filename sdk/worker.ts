import type { ChunkResultOf } from './chunk.js';
import type { KobanTimeoutError } from './errors.js';
import type { Job, JsonObject } from './job.js';
import type { JobOptions } from './job-spec.js';
import type { ControlOutcome } from './results.js';

/** What `process` may return: a value (stored when the worker is recorded) or a control outcome. */
export type ProcessResult<Result> = Result | ControlOutcome | Promise<Result | ControlOutcome>;

/** The methods Koban calls on a worker instance. Only `process` is required. */
export interface WorkerInstance<Args = any, Result = unknown> {
  /** One job; for a chunk worker (`@Worker({ chunk })`), a list of them (see chunk.ts). */
  process(job: Job<Args, any> | readonly Job<Args, any>[]): ProcessResult<Result>;
  /** Seconds to wait before the next attempt after an error. Default `15 + 2^attempt` plus jitter. */
  backoff?(job: Job<Args, any>): number;
  /**
   * Runs before each attempt. It may return nothing (go on), `{ args }` (process gets the job with
   * these args; the stored job is unchanged), or `cancel(reason)`, `snooze(seconds)` or
   * `discard(reason)`: the attempt ends so, and `process` is not called.
   */
  beforeProcess?(job: Job<Args, any>): BeforeProcessResult<Args> | Promise<BeforeProcessResult<Args>>;
  afterProcess?(job: Job<Args, any>, outcome: ProcessOutcome): void | Promise<void>;
  /**
   * Runs when an attempt passes the worker's `timeout`, after `job.signal` aborts and before the
   * attempt is recorded as failed: to release what `process` held, or to say how far it got.
   */
  onTimeout?(job: Job<Args, any>, error: KobanTimeoutError): void | Promise<void>;
}

/** What happened to an attempt, as reported to `afterProcess` hooks and events. */
export type ProcessOutcome =
  | { readonly kind: 'completed'; readonly result: unknown }
  | { readonly kind: 'error'; readonly error: unknown; readonly state: 'retryable' | 'discarded' }
  | { readonly kind: 'cancelled'; readonly reason: string }
  | { readonly kind: 'discarded'; readonly reason: string }
  | { readonly kind: 'snoozed'; readonly seconds: number };

/** What a `beforeProcess` hook returns: nothing, changed args, or an outcome that stops the attempt. */
export type BeforeProcessResult<Args = unknown> = void | undefined | ControlOutcome | { readonly args: Args };

/** A job about to be inserted, as a `beforeNew` hook sees and returns it. */
export interface NewJob<Args = any> {
  readonly args: Args;
  readonly options: JobOptions<Args>;
}

export type WorkerClass<Args = any, Result = any> = (new () => WorkerInstance<Args, Result>) & {
  readonly name: string;
  /**
   * Runs for each job of the worker before it is inserted (by `insert`, `insertAll`, workflows,
   * batches and cron): return nothing to insert it as it is, or the job with changed `args` or
   * `options`; throw to refuse it, and nothing of that insert is written.
   */
  beforeNew?(job: NewJob<Args>): NewJob<Args> | void | Promise<NewJob<Args> | void>;
};

type ProcessOf<W> = W extends new () => infer I ? (I extends { process: infer P } ? P : never) : never;

/** The args type of a worker class, read from `process(job: Job<Args>)`. */
export type ArgsOf<W> =
  ProcessOf<W> extends (job: infer J, ...rest: any[]) => any
    ? J extends Job<infer Args, any>
      ? Args
      : J extends readonly Job<infer Args, any>[]
        ? Args
        : JsonObject
    : never;

/**
 * The result type of a worker class: what `process` resolves to, less control outcomes; for a
 * chunk worker, what its map gives each job (see chunk.ts).
 */
export type ResultOf<W> =
  ProcessOf<W> extends (job: infer J, ...rest: any[]) => infer R
    ? J extends readonly unknown[]
      ? ChunkResultOf<Awaited<R>>
      : Exclude<Awaited<R>, ControlOutcome>
    : never;
