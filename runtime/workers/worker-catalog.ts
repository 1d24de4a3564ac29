import type { ChunkDefinition } from '../../sdk/chunk.js';
import type { Codec } from '../../sdk/codec.js';
import { KobanConfigError } from '../../sdk/errors.js';
import {
  getWorkerDefinition,
  registeredWorkers,
  type WorkerDefinition,
  type WorkerEntry,
  workerAliases,
} from '../../sdk/registry.js';
import type { WorkerClass, WorkerInstance } from '../../sdk/worker.js';
import type { FlowLimits } from '../engine/flow.js';
import { defaultMaxArgsBytes } from './args-size.js';
import type { BeforeNewHook } from './before-new.js';
import { type KeyRing, loadKeyRing } from './encryption.js';
import { checkStructuredOptions } from './structured.js';
import { resolveUnique } from './unique.js';

/** The default `@Recorded` limit: 64 KiB after compression. */
export const defaultRecordedLimit = 64 * 1024;

/** A worker class with its checked options, codecs and resolved encryption keys. */
export interface CatalogWorker {
  readonly worker: WorkerClass;
  readonly definition: WorkerDefinition;
  readonly args: Codec<unknown> | undefined;
  readonly result: Codec<unknown> | undefined;
  /** The top-level keys of the args type, from `npx gen`, when it has a fixed set. */
  readonly argsKeys: readonly string[] | undefined;
  /** The keys of an `@Encrypted` worker; undefined for others. */
  readonly ring: KeyRing | undefined;
}

/** A worker this node runs: one instance serves all its jobs. */
export interface RunnableWorker extends CatalogWorker {
  readonly instance: WorkerInstance;
}

/**
 * The workers of one Koban instance. Those given to `Koban.start({ workers })` are what the node
 * runs, and that list is authoritative: inserting a job of another worker class prepares the
 * class for encoding (its options and keys) but never makes the node run it.
 */
export class WorkerCatalog {
  private readonly runnable = new Map<string, RunnableWorker>();
  private readonly byClass = new Map<WorkerClass, CatalogWorker>();
  private readonly pending = new Map<WorkerClass, Promise<CatalogWorker>>();

  /** The largest args, as JSON, that an insert takes: `maxArgsBytes`. */
  readonly maxArgsBytes: number;

  /** The time inserts reckon `scheduleIn` from: the database's clock once the node has synced it. */
  readonly clock: { now(): number };

  /**
   * The cluster-wide limits of a queue as this node applies them, when it runs the queue: inserts
   * refuse a job heavier than one of them.
   */
  limitsOf: (queue: string) => FlowLimits | undefined = () => undefined;

  /** `Koban.start({ beforeNew })`: run before every insert of this instance, whatever the worker. */
  readonly beforeNew: BeforeNewHook | undefined;

  private constructor(maxArgsBytes: number, clock: { now(): number }, beforeNew: BeforeNewHook | undefined) {
    this.maxArgsBytes = maxArgsBytes;
    this.clock = clock;
    this.beforeNew = beforeNew;
  }

  /** Checks every listed worker and resolves its keys: a bad option or key fails here. */
  static async create(
    sources: readonly (WorkerClass | WorkerEntry)[] | undefined,
    {
      maxArgsBytes = defaultMaxArgsBytes,
      clock = { now: () => Date.now() },
      beforeNew,
    }: { maxArgsBytes?: number; clock?: { now(): number }; beforeNew?: BeforeNewHook | undefined } = {},
  ): Promise<WorkerCatalog> {
    const catalog = new WorkerCatalog(maxArgsBytes, clock, beforeNew);
    const entries = (sources ?? [...registeredWorkers().values()]).map((source) =>
      typeof source === 'function' ? { worker: source } : source,
    );
    for (const entry of entries) {
      if (typeof entry?.worker !== 'function') {
        throw new KobanConfigError(
          `workers: expected worker classes or entries from npx gen, got ${JSON.stringify(entry)}`,
        );
      }
    }
    const prepared = await Promise.all(entries.map((entry) => prepare(entry)));
    for (const worker of prepared) catalog.addRunnable(worker);
    return catalog;
  }

  private addRunnable(worker: CatalogWorker): void {
    const { name } = worker.definition;
    const clash = this.runnable.get(name);
    if (clash && clash.worker !== worker.worker) {
      throw new KobanConfigError(
        `workers: ${clash.worker.name} and ${worker.worker.name} are both stored as "${name}"; give one of them @Worker({ name })`,
      );
    }
    let instance: WorkerInstance;
    try {
      instance = new worker.worker();
    } catch (error) {
      throw new KobanConfigError(
        `workers: could not construct ${worker.worker.name} with no arguments: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const runnable = { ...worker, instance };
    this.runnable.set(name, runnable);
    // Jobs stored under an old name (`aliases`) run as this class.
    for (const alias of workerAliases(worker.worker)) {
      const taken = this.runnable.get(alias);
      if (taken && taken.worker !== worker.worker) {
        throw new KobanConfigError(
          `workers: ${worker.worker.name} lists the alias "${alias}", which ${taken.worker.name} runs; remove one of them`,
        );
      }
      this.runnable.set(alias, runnable);
    }
    this.byClass.set(worker.worker, runnable);
  }

  /** The worker this node runs under a stored name; undefined when the node does not run it. */
  get(name: string): RunnableWorker | undefined {
    return this.runnable.get(name);
  }

  /** The names of the workers this node runs. */
  names(): string[] {
    return [...this.runnable.keys()].sort();
  }

  all(): RunnableWorker[] {
    return [...this.runnable.values()];
  }

  /** A class's entry when it is prepared already: the fast path of inserts. */
  knownEntry(worker: WorkerClass): CatalogWorker | undefined {
    return this.byClass.get(worker);
  }

  /** A class's entry, for encoding its jobs: the node's own, or one prepared for inserts only. */
  entryFor(worker: WorkerClass): Promise<CatalogWorker> {
    const known = this.byClass.get(worker);
    if (known) return Promise.resolve(known);
    let preparing = this.pending.get(worker);
    if (!preparing) {
      preparing = prepare({ worker }).then((entry) => {
        this.byClass.set(worker, entry);
        this.pending.delete(worker);
        return entry;
      });
      preparing.catch(() => this.pending.delete(worker));
      this.pending.set(worker, preparing);
    }
    return preparing;
  }

  /**
   * The entry of a stored worker name, for reading its data (recorded values, args): the node's
   * own, else the class defined under that name in this process, if any.
   */
  async entryForName(name: string): Promise<CatalogWorker | undefined> {
    const runnable = this.runnable.get(name);
    if (runnable) return runnable;
    const worker = registeredWorkers().get(name);
    return worker ? this.entryFor(worker) : undefined;
  }
}

/** Checks a worker's options and resolves its encryption keys. */
async function prepare(entry: WorkerEntry): Promise<CatalogWorker> {
  const definition = getWorkerDefinition(entry.worker);
  checkWorkerFeatures(definition);
  const ring = definition.encrypted ? await loadKeyRing(definition.encrypted, definition.name) : undefined;
  return {
    worker: entry.worker,
    definition,
    args: entry.args,
    result: entry.result,
    argsKeys: entry.argsKeys,
    ring,
  };
}

/** Checks what can be checked without keys. */
function checkWorkerFeatures(definition: WorkerDefinition): void {
  const { name } = definition;
  if (definition.unique) resolveUnique(definition.unique, `worker ${name}`);
  if (definition.structured) checkStructuredOptions(definition.structured, name);
  const limit = definition.recorded?.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new KobanConfigError(`${name} @Recorded: limit must be a positive number of bytes, got ${limit}`);
  }
  if (definition.chunk) checkChunkFeatures(definition, definition.chunk);
  if (definition.recorded?.encrypted && !definition.encrypted) {
    throw new KobanConfigError(
      `${name} @Recorded({ encrypted: true }) needs the worker's keys: add @Encrypted({ key }) to ${name}`,
    );
  }
}

/** What a chunk worker cannot be: its args are grouped in SQL. */
function checkChunkFeatures(definition: WorkerDefinition, chunk: ChunkDefinition): void {
  const { name } = definition;
  if (definition.encrypted && chunk.args.length > 0) {
    throw new KobanConfigError(
      `${name}: chunk.by.args cannot group an @Encrypted worker's jobs, whose args the database cannot read; group by meta keys instead`,
    );
  }
}

/** The keys of an encrypted worker; a clear error when they are missing. */
export function keyRingOf(entry: CatalogWorker): KeyRing {
  if (!entry.ring) {
    throw new KobanConfigError(`${entry.definition.name} is not @Encrypted, or its keys were not resolved`);
  }
  return entry.ring;
}
