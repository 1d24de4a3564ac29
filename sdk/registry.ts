import 'reflect-metadata';
import type { KnownCallbacks } from './batch-context.js';
import { type ChunkDefinition, chunkDefinition } from './chunk.js';
import type { Codec } from './codec.js';
import { checkDeadline, type Deadline } from './deadline.js';
import { KobanConfigError } from './errors.js';
import type { ArgsOf, WorkerClass } from './worker.js';
import {
  checkMaxAttempts,
  checkPriority,
  checkQueueName,
  checkTags,
  checkWeight,
  checkWorkerName,
  defaultMaxAttempts,
  defaultQueue,
  type EncryptedOptions,
  maxTimeoutMs,
  type RecordedOptions,
  type StructuredOptions,
  type UniqueOptions,
  type WorkerOptions,
} from './worker-options.js';

/** A worker's options after defaults and checks: what the runtime and codegen work from. */
export interface WorkerDefinition {
  readonly name: string;
  readonly className: string;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly tags: readonly string[];
  readonly timeout: number | undefined;
  readonly deadline: Deadline | undefined;
  readonly unique: UniqueOptions | undefined;
  readonly structured: StructuredOptions | undefined;
  readonly recorded: RecordedOptions | undefined;
  readonly encrypted: EncryptedOptions | undefined;
  readonly weight: number;
  /** Set for a chunk worker: `process` gets a list of jobs. */
  readonly chunk: ChunkDefinition | undefined;
}

/** A worker as given to `Koban.start({ workers })`, with the codecs `npx gen` wrote for it. */
export interface WorkerEntry<Args = any, Result = any> {
  readonly worker: WorkerClass<Args, Result>;
  readonly args?: Codec<Args>;
  readonly result?: Codec<Result>;
  /** The fingerprint of the options the codecs were generated from (see `workerContract`). */
  readonly contract?: string;
}

const metadataKey = Symbol.for('koban:worker-options');
const registry = new Map<string, WorkerClass>();

function ownOptions(target: WorkerClass): WorkerOptions | undefined {
  return Reflect.getOwnMetadata(metadataKey, target) as WorkerOptions | undefined;
}

function checkWorkerClass(target: unknown, where: string): asserts target is WorkerClass {
  if (typeof target !== 'function' || typeof target.prototype?.process !== 'function') {
    throw new KobanConfigError(`${where}: a worker must be a class with a process(job) method`);
  }
}

function checkOptions(options: WorkerOptions, where: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new KobanConfigError(`${where}: options must be an object, got ${String(options)}`);
  }
  if (options.queue !== undefined) checkQueueName(options.queue, where);
  if (options.maxAttempts !== undefined) checkMaxAttempts(options.maxAttempts, where);
  if (options.priority !== undefined) checkPriority(options.priority, where);
  if (options.weight !== undefined) checkWeight(options.weight, where);
  if (options.tags !== undefined) checkTags(options.tags, where);
  if (
    options.timeout !== undefined &&
    !(Number.isFinite(options.timeout) && options.timeout > 0 && options.timeout <= maxTimeoutMs)
  ) {
    throw new KobanConfigError(
      `${where}: timeout must be a positive number of milliseconds up to ${maxTimeoutMs} (about 24.8 days), got ${options.timeout}`,
    );
  }
  if (options.deadline !== undefined) checkDeadline(options.deadline, where, 'config');
  if (options.chunk !== undefined) chunkDefinition(options.chunk, where);
  if (options.name !== undefined) checkWorkerName(options.name, where);
  if (options.aliases !== undefined) {
    if (!Array.isArray(options.aliases)) {
      throw new KobanConfigError(
        `${where}: aliases must be a list of old worker names, got ${JSON.stringify(options.aliases)}`,
      );
    }
    for (const alias of options.aliases) checkWorkerName(alias, `${where} aliases`);
  }
}

/**
 * Merges options into a class's worker metadata. `@Worker`, `@Structured`, `@Recorded` and
 * `@Encrypted` all end here, in whatever order they are applied.
 */
function mergeOptions(target: WorkerClass, options: WorkerOptions): void {
  const merged = { ...ownOptions(target), ...options };
  Reflect.defineMetadata(metadataKey, merged, target);
}

/**
 * Registers a class as a worker: the plain twin of `@Worker`. The stored name defaults to the class
 * name; set `name` to keep queued jobs running when the class is renamed.
 */
export function defineWorker<W extends WorkerClass>(
  target: W & KnownCallbacks<W>,
  options: WorkerOptions<ArgsOf<W>> = {},
): W {
  const where = `worker ${(target as { name?: string })?.name || '(anonymous class)'}`;
  checkWorkerClass(target, where);
  checkOptions(options, where);
  const name = checkWorkerName(options.name ?? target.name, where);
  const existing = registry.get(name);
  if (existing && existing !== target) {
    throw new KobanConfigError(
      `${where}: the worker name "${name}" is already taken by another class; give one of them @Worker({ name })`,
    );
  }
  for (const alias of options.aliases ?? []) {
    const taken = registry.get(alias);
    if (alias === name || (taken && taken !== target)) {
      throw new KobanConfigError(
        `${where}: the alias "${alias}" is ${alias === name ? "the worker's own name" : 'the name or alias of another worker class'}`,
      );
    }
  }
  mergeOptions(target, { ...options, name });
  registry.set(name, target);
  for (const alias of options.aliases ?? []) registry.set(alias, target);
  return target;
}

/** Adds a feature option (structured, recorded, encrypted) to a class that is or will be a worker. */
export function defineWorkerFeature<W extends WorkerClass>(
  target: W,
  feature: Pick<WorkerOptions, 'structured' | 'recorded' | 'encrypted'>,
  decorator: string,
): W {
  checkWorkerClass(target, `@${decorator} on ${(target as { name?: string })?.name || '(anonymous class)'}`);
  mergeOptions(target, feature);
  return target;
}

export function isWorkerClass(target: unknown): target is WorkerClass {
  return typeof target === 'function' && ownOptions(target as WorkerClass)?.name !== undefined;
}

/** The checked options of a worker class, with defaults filled in. */
export function getWorkerDefinition(target: WorkerClass): WorkerDefinition {
  const options = ownOptions(target);
  if (!options?.name) {
    throw new KobanConfigError(
      `${target?.name || 'this class'} is not a worker: decorate it with @Worker() or call defineWorker(Class, options)`,
    );
  }
  const recorded = options.recorded === true ? {} : options.recorded || undefined;
  return {
    name: options.name,
    className: target.name,
    queue: options.queue ?? defaultQueue,
    maxAttempts: options.maxAttempts ?? defaultMaxAttempts,
    priority: options.priority ?? 0,
    tags: options.tags ?? [],
    timeout: options.timeout,
    deadline: options.deadline,
    unique: options.unique,
    structured: options.structured,
    recorded,
    encrypted: options.encrypted,
    weight: options.weight ?? 1,
    chunk: options.chunk === undefined ? undefined : chunkDefinition(options.chunk, `worker ${options.name}`),
  };
}

/** The old stored names a worker runs the jobs of (`@Worker({ aliases })`). */
export function workerAliases(target: WorkerClass): readonly string[] {
  return ownOptions(target)?.aliases ?? [];
}

/** Every worker class defined in this process so far, by stored name (aliases included). */
export function registeredWorkers(): ReadonlyMap<string, WorkerClass> {
  return registry;
}
