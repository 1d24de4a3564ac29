import { createHmac, hash } from 'node:crypto';
import { type Fault, faultError } from '../../sdk/errors.js';
import type { JsonObject } from '../../sdk/job.js';
import { incompleteStates, type JobState, jobStates, stateBit, stateMask } from '../../sdk/states.js';
import type { ReplaceField, UniqueField, UniqueOptions, UniqueStates } from '../../sdk/worker-options.js';
import type { ReplacePlan } from '../engine/insert-row.js';

/** Unique options after defaults and checks, as the insert needs them. */
export interface UniquePlan {
  readonly fields: ReadonlySet<UniqueField>;
  /** Args keys compared; undefined compares all args. */
  readonly keys: readonly string[] | undefined;
  /** Meta keys compared; undefined compares all meta (when `meta` is a field). */
  readonly meta: readonly string[] | undefined;
  /** The bitmask of `unique_states`, in jobStates order. */
  readonly states: number;
  /** Seconds a holder blocks duplicates after its insert; null for as long as it is in `states`. */
  readonly period: number | null;
  /** The holder's column `period` counts from. */
  readonly timestamp: 'inserted_at' | 'scheduled_at';
  readonly replace: ReplacePlan | undefined;
}

/** Which columns a conflicting insert overwrites, each for the existing job's states (a bitmask). */

/** The unique columns of one row. */
export interface UniqueColumns {
  readonly uniqueKey: string;
  readonly uniqueStates: number;
  readonly uniquePeriod: number | null;
  readonly uniqueTimestamp: 'inserted_at' | 'scheduled_at';
  readonly uniqueReplace: ReplacePlan | undefined;
}

const namedStates: Record<Exclude<UniqueStates, readonly JobState[]>, number> = {
  incomplete: stateMask(incompleteStates),
  scheduled: stateMask(['scheduled']),
  successful: stateMask([...incompleteStates, 'completed']),
  all: stateMask(jobStates),
};
const uniqueFields: readonly UniqueField[] = ['worker', 'queue', 'args', 'meta'];
const replaceFields: readonly ReplaceField[] = [
  'args',
  'maxAttempts',
  'meta',
  'priority',
  'queue',
  'scheduledAt',
  'tags',
];
const defaultPeriod = 60;
const plans = new WeakMap<UniqueOptions, UniquePlan>();

/**
 * The unique plan for one insert: the worker's options with the insert's on top (`unique: false`
 * turns it off). Undefined when the job is not unique, which is the fast path.
 */
export function uniquePlanFor(
  workerOptions: UniqueOptions | undefined,
  insertOptions: UniqueOptions | false | undefined,
  where: string,
): UniquePlan | undefined {
  if (insertOptions === false) return undefined;
  if (insertOptions === undefined) return workerOptions ? resolveUnique(workerOptions, where) : undefined;
  // The insert's own unique options are an argument of the call: a mistake there is the caller's.
  return resolveUnique({ ...workerOptions, ...insertOptions }, where, 'argument');
}

/** Checks unique options and fills in defaults; cached per options object. */
export function resolveUnique(options: UniqueOptions, where: string, fault: Fault = 'config'): UniquePlan {
  const cached = plans.get(options);
  if (cached) return cached;
  const fail = (message: string): never => {
    throw faultError(fault, where, `unique.${message}`);
  };
  if (typeof options !== 'object' || options === null)
    fail(`options must be an object, got ${String(options)}`);
  const period = options.period ?? defaultPeriod;
  if (period !== 'infinity' && !(typeof period === 'number' && Number.isFinite(period) && period > 0)) {
    fail(`period must be a positive number of seconds or 'infinity', got ${JSON.stringify(period)}`);
  }
  const fields = new Set<UniqueField>(options.fields ?? ['worker', 'queue', 'args']);
  for (const field of fields) {
    if (!uniqueFields.includes(field))
      fail(`fields: unknown field ${JSON.stringify(field)}; use ${uniqueFields.join(', ')}`);
  }
  const keys = stringList(options.keys, 'keys', fail);
  const meta = stringList(options.meta, 'meta', fail);
  if (meta !== undefined) fields.add('meta');
  const plan: UniquePlan = {
    fields,
    keys,
    meta,
    states: statesMask(options.states ?? 'successful', fail),
    period: period === 'infinity' ? null : period,
    timestamp: timestampColumn(options.timestamp, fail),
    replace: options.replace === undefined ? undefined : replacePlan(options.replace, fail),
  };
  plans.set(options, plan);
  return plan;
}

function timestampColumn(value: unknown, fail: (message: string) => never): 'inserted_at' | 'scheduled_at' {
  if (value === undefined || value === 'insertedAt') return 'inserted_at';
  if (value === 'scheduledAt') return 'scheduled_at';
  return fail(`timestamp must be 'insertedAt' or 'scheduledAt', got ${JSON.stringify(value)}`);
}

function stringList(value: unknown, name: string, fail: (message: string) => never): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    fail(`${name} must be an array of key names, got ${JSON.stringify(value)}`);
  }
  return [...(value as string[])].sort();
}

function statesMask(states: UniqueStates, fail: (message: string) => never): number {
  if (typeof states === 'string') {
    const named = namedStates[states as keyof typeof namedStates];
    return (
      named ??
      fail(
        `states: expected ${Object.keys(namedStates).join(', ')} or a list of states, got ${JSON.stringify(states)}`,
      )
    );
  }
  if (!Array.isArray(states) || states.length === 0)
    fail('states must be a name or a non-empty list of states');
  const unknown = states.filter((state) => !jobStates.includes(state));
  if (unknown.length > 0)
    fail(`states: unknown state ${unknown.join(', ')}; expected ${jobStates.join(', ')}`);
  return stateMask(states);
}

function replacePlan(replace: UniqueOptions['replace'], fail: (message: string) => never): ReplacePlan {
  const byField = new Map<ReplaceField, number>();
  const add = (fields: unknown, states: number, where: string) => {
    if (!Array.isArray(fields))
      fail(`replace${where} must be a list of fields, got ${JSON.stringify(fields)}`);
    for (const field of fields as ReplaceField[]) {
      if (!replaceFields.includes(field)) {
        fail(`replace${where}: unknown field ${JSON.stringify(field)}; use ${replaceFields.join(', ')}`);
      }
      byField.set(field, (byField.get(field) ?? 0) | states);
    }
  };
  if (Array.isArray(replace)) add(replace, namedStates.all, '');
  else if (typeof replace === 'object' && replace !== null) {
    for (const [state, fields] of Object.entries(replace)) {
      if (!jobStates.includes(state as JobState))
        fail(`replace: unknown state ${JSON.stringify(state)}; expected ${jobStates.join(', ')}`);
      add(fields, stateBit(state as JobState), `.${state}`);
    }
  } else fail(`replace must be a list of fields or { state: fields }, got ${JSON.stringify(replace)}`);
  const fields = [...byField]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([field, states]) => ({ field, states }));
  return { fields, signature: fields.map(({ field, states }) => `${field}:${states}`).join(',') };
}

/** What the fingerprint reads: the job as it will be stored, args encoded but not yet encrypted. */
export interface FingerprintInput {
  readonly worker: string;
  readonly queue: string;
  readonly args: unknown;
  readonly meta: JsonObject;
}

/**
 * The unique columns of a job. The key is a SHA-256 of a canonical JSON (sorted keys) of the
 * compared fields. For an encrypted worker whose args take part, it is instead an HMAC-SHA256
 * under a key derived from the worker's current encryption key: duplicates still meet in the
 * unique index, and the database learns only which jobs have equal compared args, never the
 * args. After a key rotation, new jobs no longer match jobs fingerprinted under the old key.
 */
export function uniqueColumns(plan: UniquePlan, job: FingerprintInput, hmacKey?: Buffer): UniqueColumns {
  const compared: Record<string, unknown> = {};
  if (plan.fields.has('worker')) compared.worker = job.worker;
  if (plan.fields.has('queue')) compared.queue = job.queue;
  const argsCompared = plan.fields.has('args') && (plan.keys === undefined || plan.keys.length > 0);
  if (argsCompared) compared.args = pick(job.args, plan.keys);
  if (plan.fields.has('meta')) compared.meta = pick(job.meta, plan.meta);
  const text = canonicalJson(compared);
  const uniqueKey =
    argsCompared && hmacKey
      ? createHmac('sha256', hmacKey).update(text).digest('hex')
      : hash('sha256', text, 'hex'); // one-shot: half the cost of createHash for short text
  return {
    uniqueKey,
    uniqueStates: plan.states,
    uniquePeriod: plan.period,
    uniqueTimestamp: plan.timestamp,
    uniqueReplace: plan.replace,
  };
}

function pick(value: unknown, keys: readonly string[] | undefined): unknown {
  if (keys === undefined || typeof value !== 'object' || value === null) return value;
  const source = value as Record<string, unknown>;
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}

/** JSON with object keys sorted at every depth, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  // Fingerprints of stored jobs depend on this exact text: it must not change from one version to
  // the next. Written with loops, as it runs for every unique job.
  if (typeof value !== 'object' || value === null || value instanceof Date) {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ',';
      // A hole in a sparse array stays empty, as Array#map then join leave it.
      if (index in value) text += canonicalJson(value[index] ?? null);
    }
    return `${text}]`;
  }
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  if (keys.length > 1) keys.sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const item = source[key];
    if (item === undefined) continue;
    text += first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`;
    text += canonicalJson(item);
    first = false;
  }
  return `${text}}`;
}
