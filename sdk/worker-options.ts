import type { ChunkOptions } from './chunk.js';
import type { Deadline } from './deadline.js';
import { type Fault, faultError } from './errors.js';
import type { JobState } from './job.js';
import { unstorableText } from './storable-text.js';

/** Which jobs count as duplicates of each other. Periods are in seconds. */
export interface UniqueOptions<Args = any> {
  /** How long after its insert a job blocks duplicates; `'infinity'` for as long as it is in `states`. */
  period?: number | 'infinity';
  /** The states of an existing job that make a new one a duplicate. */
  states?: UniqueStates;
  /**
   * Compare only these args keys; `[]` compares no args at all. On an `@Encrypted` worker the
   * compared values are fingerprinted with an HMAC under a key derived from the current
   * encryption key: the database can tell which jobs have equal values, never what they are.
   */
  keys?: readonly (keyof Args & string)[];
  /** The job fields compared; the default is worker, queue and args. */
  fields?: readonly UniqueField[];
  /** Meta keys compared, as in `unique: { keys: [], meta: ['userId'] }`. */
  meta?: readonly string[];
  /**
   * Which time of the existing job `period` counts from: `'insertedAt'` (default) or
   * `'scheduledAt'`, so that a job scheduled for later blocks duplicates until `period` after
   * it is due (Oban's `timestamp: :scheduled_at`).
   */
  timestamp?: 'insertedAt' | 'scheduledAt';
  /** What a conflicting insert updates on the existing job, by the existing job's state. */
  replace?: readonly ReplaceField[] | Partial<Record<JobState, readonly ReplaceField[]>>;
}

export type UniqueStates = 'incomplete' | 'scheduled' | 'successful' | 'all' | readonly JobState[];
export type UniqueField = 'worker' | 'queue' | 'args' | 'meta';
export type ReplaceField = 'args' | 'maxAttempts' | 'meta' | 'priority' | 'queue' | 'scheduledAt' | 'tags';

export interface StructuredOptions<Args = any> {
  /** The only keys args may have; unknown keys are rejected. */
  keys?: readonly (keyof Args & string)[];
  /** Keys that must be present. */
  required?: readonly (keyof Args & string)[];
  /** Values filled in for missing keys before validation. */
  defaults?: Partial<Args>;
}

export interface RecordedOptions {
  /** Largest stored value in bytes, after compression. Default 64 KiB. */
  limit?: number;
  /** Encrypt the recorded value with the worker's encryption keys. */
  encrypted?: boolean;
}

/** A 32-byte key as base64 or raw bytes, or a function returning one (sync or async). */
export type EncryptionKey = string | Uint8Array | (() => string | Uint8Array | Promise<string | Uint8Array>);

export interface EncryptedOptions {
  /** The current key. Give `key` or `keys`. */
  key?: EncryptionKey;
  /** `[current, ...previous]`: encrypts with the first, decrypts with any. */
  keys?: readonly EncryptionKey[];
  algorithm?: 'aes-256-gcm' | 'aes-256-ctr';
}

export interface WorkerOptions<Args = any> {
  /** The queue jobs go to. Default `default`. */
  queue?: string;
  /** Attempts before a failing job is discarded. Default 20. */
  maxAttempts?: number;
  /** 0 (first) to 9 (last). Default 0. */
  priority?: number;
  tags?: readonly string[];
  /** Milliseconds an attempt may run before `job.signal` aborts and the attempt fails. */
  timeout?: number;
  /**
   * When each job must have started by: seconds from its insert, a Date, or either with
   * `action: 'discard'` (default `'cancel'`). A job past it never starts; one running runs on.
   */
  deadline?: Deadline;
  /** The name stored with each job. Default: the class name. Keep it when renaming the class. */
  name?: string;
  /**
   * Old stored names whose jobs this worker runs: after a rename, list the old name here and
   * the jobs queued under it run as this class (new jobs store `name`).
   */
  aliases?: readonly string[];
  unique?: UniqueOptions<Args>;
  structured?: StructuredOptions<Args>;
  recorded?: boolean | RecordedOptions;
  encrypted?: EncryptedOptions;
  /**
   * Slots a job of this worker takes of its queue's cluster-wide limits (global, partition, rate).
   * Default 1. A job heavier than a limit never fits it.
   */
  weight?: number;
  /**
   * Makes this a chunk worker: `process(jobs)` gets up to `size` jobs at once, waiting at most
   * `timeout` ms for them, grouped `by` args or meta keys; each job's outcome is still its own.
   */
  chunk?: ChunkOptions<Args>;
}

export const defaultQueue = 'default';
export const defaultMaxAttempts = 20;

const namePattern = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** Throws a message naming the owner and the option when `value` is not a usable queue name. */
export function checkQueueName(value: unknown, where: string, fault: Fault = 'config'): string {
  if (typeof value !== 'string' || !namePattern.test(value)) {
    throw faultError(
      fault,
      where,
      "queue must be a name of letters, digits, '_', '.', ':' or '-' starting with a letter or '_' " +
        `(at most 128 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkPriority(value: unknown, where: string, fault: Fault = 'config'): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 9) {
    throw faultError(fault, where, `priority must be an integer from 0 to 9, got ${String(value)}`);
  }
  return value as number;
}

/** The heaviest weight a job may have: it must fit a limit. */
export const maxWeight = 1_000_000;

export function checkWeight(value: unknown, where: string, fault: Fault = 'config'): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > maxWeight) {
    throw faultError(fault, where, `weight must be an integer from 1 to ${maxWeight}, got ${String(value)}`);
  }
  return value as number;
}

/** The largest PostgreSQL `integer`: the column type of attempts. */
export const maxInteger = 2_147_483_647;

export function checkMaxAttempts(value: unknown, where: string, fault: Fault = 'config'): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > maxInteger) {
    throw faultError(
      fault,
      where,
      `maxAttempts must be an integer from 1 to ${maxInteger}, got ${String(value)}`,
    );
  }
  return value as number;
}

export function checkTags(value: unknown, where: string, fault: Fault = 'config'): string[] {
  if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string' || tag.length === 0)) {
    throw faultError(
      fault,
      where,
      `tags must be an array of non-empty strings, got ${JSON.stringify(value)}`,
    );
  }
  value.forEach((tag: string, index) => {
    const reason = unstorableText(tag);
    if (reason) throw faultError(fault, where, `tags[${index}] ${reason}, got ${JSON.stringify(tag)}`);
  });
  return [...value];
}

/** The longest worker name the jobs table takes, in characters. */
export const maxWorkerNameLength = 255;

/** Throws a message naming the owner when `value` cannot be stored as a worker name. */
export function checkWorkerName(value: unknown, where: string, fault: Fault = 'config'): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw faultError(fault, where, `name must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  const length = [...value].length;
  if (length > maxWorkerNameLength) {
    throw faultError(
      fault,
      where,
      `the worker name is ${length} characters long; at most ${maxWorkerNameLength} fit in the jobs table. ` +
        'Give the class a shorter name, or set @Worker({ name })',
    );
  }
  const reason = unstorableText(value);
  if (reason) throw faultError(fault, where, `the worker name ${reason}`);
  return value;
}

/** The longest delay Node timers take: a longer `timeout` would fire at once. */
export const maxTimeoutMs = 2_147_483_647;

/** Names listed in `Listed` that are not keys of `Args`; never when `Args` allows any key. */
type KeysNotIn<Listed, Args> = string extends keyof Args ? never : Exclude<Listed, keyof Args>;

type ListedIn<O, Option extends string> = O extends { readonly [K in Option]: readonly (infer Key)[] }
  ? Key
  : never;

/** `@Structured` (or `structured`) option keys that are not keys of the worker's args. */
export type StructuredKeyMistakes<O, Args> =
  | KeysNotIn<ListedIn<O, 'keys'>, Args>
  | KeysNotIn<ListedIn<O, 'required'>, Args>
  | KeysNotIn<O extends { readonly defaults: infer D } ? keyof NonNullable<D> : never, Args>;

/** `unique.keys`, `chunk.by.args` and `structured` names in worker options that are not keys of the worker's args. */
export type WorkerOptionKeyMistakes<O, Args> =
  | KeysNotIn<O extends { readonly unique: infer U } ? ListedIn<U, 'keys'> : never, Args>
  | KeysNotIn<O extends { readonly chunk: { readonly by: infer B } } ? ListedIn<B, 'args'> : never, Args>
  | (O extends { readonly structured: infer S } ? StructuredKeyMistakes<S, Args> : never);

/**
 * The class a decorator accepts: any class when its options name only keys of its args, else a
 * type that the class fails with a message naming the stray keys, at the decorator, when tsc runs.
 */
export type ClassWithArgKeys<W, Mistakes> = [Mistakes] extends [never]
  ? W
  : W & { readonly 'options name keys that are not in the args type': Mistakes };
