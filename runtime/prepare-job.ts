import type { Codec } from '../sdk/codec.js';
import { KobanValidationError } from '../sdk/errors.js';
import type { JsonObject } from '../sdk/job.js';
import type { JobOptions, JobSpec } from '../sdk/job-spec.js';
import { checkMaxAttempts, checkPriority, checkQueueName, checkTags } from '../sdk/worker-options.js';
import { jsonIssues } from './json-args.js';
import type { CatalogWorker, WorkerCatalog } from './worker-catalog.js';

/** One job as it goes into the table. */
export interface InsertRow {
  readonly worker: string;
  readonly queue: string;
  readonly args: unknown;
  readonly meta: JsonObject;
  readonly tags: readonly string[];
  readonly maxAttempts: number;
  readonly priority: number;
  readonly scheduledAt: Date | null;
  readonly uniqueKey: string | null;
  readonly uniqueStates: number | null;
}

/** Checks a spec and its insert options, and turns them into a row. Throws before anything is written. */
export function prepareJob(spec: JobSpec, insertOptions: JobOptions, catalog: WorkerCatalog): InsertRow {
  const entry = catalog.forClass(spec.worker);
  const { definition } = entry;
  const where = `insert ${definition.name}`;
  const options = { ...spec.options, ...withoutUndefined(insertOptions) };
  const meta = options.meta ?? {};
  const metaIssues = jsonIssues(meta, 'meta');
  if (metaIssues.length > 0) throw new KobanValidationError(metaIssues, definition.name);
  return {
    worker: definition.name,
    queue: options.queue === undefined ? definition.queue : checkQueueName(options.queue, where),
    args: encodeArgs(spec, entry),
    meta,
    tags: options.tags === undefined ? definition.tags : checkTags(options.tags, where),
    maxAttempts:
      options.maxAttempts === undefined
        ? definition.maxAttempts
        : checkMaxAttempts(options.maxAttempts, where),
    priority: options.priority === undefined ? definition.priority : checkPriority(options.priority, where),
    scheduledAt: scheduledAt(options, where),
    uniqueKey: null,
    uniqueStates: null,
  };
}

function encodeArgs(spec: JobSpec, entry: CatalogWorker): unknown {
  const codec = (spec.codec ?? entry.args) as Codec<unknown> | undefined;
  if (codec) return codec.encode(spec.args);
  const issues =
    typeof spec.args === 'object' && spec.args !== null && !Array.isArray(spec.args)
      ? jsonIssues(spec.args, 'args')
      : [
          {
            path: 'args',
            message: `expected an object, got ${spec.args === null ? 'null' : typeof spec.args}`,
          },
        ];
  if (issues.length > 0) throw new KobanValidationError(issues, entry.definition.name);
  return spec.args;
}

function scheduledAt(options: JobOptions, where: string): Date | null {
  if (options.scheduledAt !== undefined && options.scheduleIn !== undefined) {
    throw new KobanValidationError([
      { path: 'options', message: `give scheduledAt or scheduleIn, not both (${where})` },
    ]);
  }
  if (options.scheduledAt !== undefined) {
    if (!(options.scheduledAt instanceof Date) || Number.isNaN(options.scheduledAt.getTime())) {
      throw new KobanValidationError([
        {
          path: 'options.scheduledAt',
          message: `expected a valid Date, got ${String(options.scheduledAt)} (${where})`,
        },
      ]);
    }
    return options.scheduledAt;
  }
  if (options.scheduleIn !== undefined) {
    if (!Number.isFinite(options.scheduleIn) || options.scheduleIn < 0) {
      throw new KobanValidationError([
        {
          path: 'options.scheduleIn',
          message: `expected seconds of at least 0, got ${options.scheduleIn} (${where})`,
        },
      ]);
    }
    return new Date(Date.now() + options.scheduleIn * 1000);
  }
  return null;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
