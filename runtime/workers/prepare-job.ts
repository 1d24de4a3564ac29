import { resolveDeadline } from '../../sdk/deadline.js';
import { latestDueTime } from '../../sdk/due-time.js';
import { KobanValidationError } from '../../sdk/errors.js';
import { checkUuid } from '../../sdk/ids.js';
import type { JsonObject } from '../../sdk/job.js';
import { isJobSpec, type JobOptions, type JobSpec } from '../../sdk/job-spec.js';
import type { NewJob } from '../../sdk/worker.js';
import {
  checkMaxAttempts,
  checkPriority,
  checkQueueName,
  checkTags,
  checkWeight,
} from '../../sdk/worker-options.js';
import { weightKey } from '../engine/flow.js';
import type { InsertRow } from '../engine/insert.js';
import type { StoredArgs } from '../engine/records.js';
import { checkArgsSize, defaultMaxArgsBytes } from './args-size.js';
import { jsonIssues, nestingIssue } from './json-args.js';
import { encodeArgs, sealedLater } from './stored-args.js';
import { uniqueColumns, uniquePlanFor } from './unique.js';
import { type CatalogWorker, keyRingOf, type WorkerCatalog } from './worker-catalog.js';

/**
 * Checks specs and their insert options, and turns them into rows. Throws before anything is
 * written. Workers the node does not run are prepared for encoding on first use.
 */
export async function prepareJobs(
  catalog: WorkerCatalog,
  specs: readonly JobSpec[],
  insertOptions: JobOptions = {},
): Promise<InsertRow[]> {
  const rows: InsertRow[] = new Array(specs.length);
  for (let index = 0; index < specs.length; index++) {
    const spec = specs[index];
    if (!isJobSpec(spec)) {
      const path = specs.length === 1 ? 'job' : `jobs[${index}]`;
      throw new KobanValidationError([
        {
          path,
          message: `expected a job built by MyWorker.new(args) or newJob(MyWorker, args), got ${describe(spec)}`,
        },
      ]);
    }
    const entry = catalog.knownEntry(spec.worker) ?? (await catalog.entryFor(spec.worker));
    const worker = entry.definition.name;
    let [checked, options]: [JobSpec, JobOptions] = [spec, insertOptions];
    // The node's hook first, then the worker's, which sees what the node's made of the job.
    const nodeHook = catalog.beforeNew;
    if (nodeHook)
      [checked, options] = await changedByBeforeNew(
        checked,
        options,
        (job) => nodeHook({ ...job, worker }),
        'Koban.start({ beforeNew })',
      );
    const ownHook = spec.worker.beforeNew;
    if (ownHook)
      [checked, options] = await changedByBeforeNew(
        checked,
        options,
        (job) => ownHook.call(spec.worker, job),
        `${worker}.beforeNew`,
      );
    rows[index] = prepareJob(checked, options, entry, catalog.maxArgsBytes, catalog.clock.now());
  }
  return rows;
}

/**
 * The job as a `beforeNew` hook (the node's or the worker's) returns it, given the options the
 * insert merged: the hook's options are the job's, and changed args are encoded (and validated)
 * again. A hook that throws refuses the job, and with it the whole insert.
 */
async function changedByBeforeNew(
  spec: JobSpec,
  insertOptions: JobOptions,
  hook: (job: NewJob) => NewJob | void | Promise<NewJob | void>,
  source: string,
): Promise<[JobSpec, JobOptions]> {
  const options = { ...spec.options, ...withoutUndefined(insertOptions) };
  const changed = await hook({ args: spec.args, options });
  if (changed === undefined) return [spec, insertOptions];
  if (typeof changed !== 'object' || changed === null || typeof changed.options !== 'object') {
    throw new KobanValidationError([
      {
        path: source,
        message: `expected nothing or the job as { args, options }, got ${describe(changed)}`,
      },
    ]);
  }
  if (changed.args === spec.args) return [{ ...spec, options: changed.options }, {}];
  const { encoded: _stale, ...rest } = spec;
  return [{ ...rest, args: changed.args, options: changed.options }, {}];
}

/**
 * A job's weight rides in its meta (`koban_weight`), read only by the claims of limited queues;
 * a job of weight 1 carries nothing.
 */
function withWeight(meta: JsonObject, given: number | undefined, worker: number, where: string): JsonObject {
  const weight = given === undefined ? worker : checkWeight(given, where, 'argument');
  if (weight === 1 || typeof meta !== 'object' || meta === null || Array.isArray(meta)) return meta;
  return { ...meta, [weightKey]: weight };
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Checks one spec against its worker's prepared entry, and turns it into a row. */
export function prepareJob(
  spec: JobSpec,
  insertOptions: JobOptions,
  entry: CatalogWorker,
  maxArgsBytes = defaultMaxArgsBytes,
  now = Date.now(),
): InsertRow {
  const { definition } = entry;
  const where = `insert ${definition.name}`;
  const options = { ...spec.options, ...withoutUndefined(insertOptions) };
  const meta = withWeight(options.meta ?? {}, options.weight, definition.weight, where);
  const metaIssues =
    typeof meta === 'object' && meta !== null && !Array.isArray(meta)
      ? jsonIssues(meta, 'meta')
      : [
          {
            path: 'meta',
            message: `expected an object, got ${Array.isArray(meta) ? 'an array' : JSON.stringify(meta)}`,
          },
        ];
  if (metaIssues.length > 0) throw new KobanValidationError(metaIssues, definition.name);
  const queue =
    options.queue === undefined ? definition.queue : checkQueueName(options.queue, where, 'argument');
  // A codec walks args before Koban's JSON check (which stops at maxJsonDepth): args nested
  // thousands deep would overflow its stack.
  const tooDeep = (spec.codec ?? entry.args) && nestingIssue(spec.args, 'args');
  if (tooDeep) throw new KobanValidationError([tooDeep], definition.name);
  // Given args too large are refused before they are walked or encoded, encoded ones before they are sent.
  checkArgsSize(spec.args, maxArgsBytes, definition.name);
  const args = encodeArgs(spec, entry);
  if (args !== spec.args) checkArgsSize(args, maxArgsBytes, definition.name);
  const plan = uniquePlanFor(definition.unique, options.unique, where);
  const unique =
    plan &&
    uniqueColumns(
      plan,
      { worker: definition.name, queue, args, meta },
      definition.encrypted ? keyRingOf(entry).fingerprintKey : undefined,
    );
  const deadlineOption = options.deadline === undefined ? definition.deadline : options.deadline;
  const deadline =
    deadlineOption === undefined || deadlineOption === false
      ? undefined
      : resolveDeadline(deadlineOption, where, now, options.deadline === undefined ? 'config' : 'argument');
  return {
    worker: definition.name,
    queue,
    ...(definition.encrypted ? sealedLater(entry, args) : { args: args as unknown as StoredArgs }),
    given: spec.args,
    meta,
    tags: options.tags === undefined ? definition.tags : checkTags(options.tags, where, 'argument'),
    maxAttempts:
      options.maxAttempts === undefined
        ? definition.maxAttempts
        : checkMaxAttempts(options.maxAttempts, where, 'argument'),
    priority:
      options.priority === undefined
        ? definition.priority
        : checkPriority(options.priority, where, 'argument'),
    scheduledAt: scheduledAt(options, where, now),
    uniqueKey: unique ? unique.uniqueKey : null,
    uniqueStates: unique ? unique.uniqueStates : null,
    uniquePeriod: unique?.uniquePeriod,
    ...(unique && unique.uniqueTimestamp !== 'inserted_at'
      ? { uniqueTimestamp: unique.uniqueTimestamp }
      : {}),
    uniqueReplace: unique?.uniqueReplace,
    batchId: options.batchId === undefined ? null : checkUuid(options.batchId, 'batchId', where),
    ...(deadline ? { deadlineAt: deadline.at, deadlineAction: deadline.action } : {}),
  };
}

/**
 * PostgreSQL's timestamptz spans 4713 BC to 294276 AD, but a due time outside 1970 to 9999 is a
 * mistake, and it would not come back unchanged: timestamps are read back as text, and JavaScript
 * reads a year under 100 as 19xx or 20xx (and older times carry offsets in seconds it cannot read).
 */
const latestTime = latestDueTime;
const earliestTime = 0;

function scheduledAt(options: JobOptions, where: string, now: number): Date | null {
  const at = requestedTime(options, where, now);
  if (at !== null && !(at.getTime() >= earliestTime && at.getTime() <= latestTime)) {
    const option = options.scheduledAt !== undefined ? 'scheduledAt' : 'scheduleIn';
    throw new KobanValidationError([
      {
        path: `options.${option}`,
        message: `${Number.isNaN(at.getTime()) ? 'the time' : at.toISOString()} is outside the years 1970 to 9999 (${where})`,
      },
    ]);
  }
  return at;
}

function requestedTime(options: JobOptions, where: string, now: number): Date | null {
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
    return new Date(now + options.scheduleIn * 1000);
  }
  return null;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
