import type { Codec } from '../sdk/codec.js';
import { KobanConfigError } from '../sdk/errors.js';
import {
  getWorkerDefinition,
  registeredWorkers,
  type WorkerDefinition,
  type WorkerEntry,
} from '../sdk/registry.js';
import type { WorkerClass, WorkerInstance } from '../sdk/worker.js';

/** A worker this node knows: its class, checked options, codecs and one instance to run jobs on. */
export interface CatalogWorker {
  readonly worker: WorkerClass;
  readonly definition: WorkerDefinition;
  readonly args: Codec<unknown> | undefined;
  readonly result: Codec<unknown> | undefined;
  readonly instance: WorkerInstance;
}

/** The workers of one Koban instance, by stored name. */
export class WorkerCatalog {
  private readonly byName = new Map<string, CatalogWorker>();
  private readonly byClass = new Map<WorkerClass, CatalogWorker>();

  constructor(sources: readonly (WorkerClass | WorkerEntry)[] | undefined) {
    const entries = sources ?? [...registeredWorkers().values()];
    for (const source of entries) this.add(typeof source === 'function' ? { worker: source } : source);
  }

  private add(entry: WorkerEntry): void {
    if (typeof entry?.worker !== 'function') {
      throw new KobanConfigError(
        `workers: expected worker classes or entries from npx gen, got ${JSON.stringify(entry)}`,
      );
    }
    const definition = getWorkerDefinition(entry.worker);
    const clash = this.byName.get(definition.name);
    if (clash && clash.worker !== entry.worker) {
      throw new KobanConfigError(
        `workers: ${clash.worker.name} and ${entry.worker.name} are both stored as "${definition.name}"; give one of them @Worker({ name })`,
      );
    }
    let instance: WorkerInstance;
    try {
      instance = new entry.worker();
    } catch (error) {
      throw new KobanConfigError(
        `workers: could not construct ${entry.worker.name} with no arguments: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const worker = { worker: entry.worker, definition, args: entry.args, result: entry.result, instance };
    this.byName.set(definition.name, worker);
    this.byClass.set(entry.worker, worker);
  }

  get(name: string): CatalogWorker | undefined {
    return this.byName.get(name);
  }

  /** Finds a class's entry, registering a class the catalog has not seen (an insert-only use). */
  forClass(worker: WorkerClass): CatalogWorker {
    const known = this.byClass.get(worker);
    if (known) return known;
    this.add({ worker });
    return this.byClass.get(worker)!;
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  all(): CatalogWorker[] {
    return [...this.byName.values()];
  }
}
