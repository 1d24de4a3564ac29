import { sql } from 'drizzle-orm';
import { KobanValidationError, KobanWorkflowError } from '../../sdk/errors.js';
import type { JobRecord, JsonObject } from '../../sdk/job.js';
import type { RecordedFetcher, RecordedReader } from '../../sdk/recorded.js';
import type {
  JobWorkflow,
  WorkerLike,
  WorkflowAppender,
  WorkflowJobsFilter,
  WorkflowStreamOptions,
} from '../../sdk/workflow-context.js';
import { list } from '../database/wire.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { recordedColumns, type StoredRecorded } from '../engine/records.js';
import { jsonIssues } from '../workers/json-args.js';
import { readRecorded } from '../workers/recorded.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { workflowJobs } from './jobs.js';
import { manyResults, workflowKinds } from './many.js';
import type { StepReads } from './step-reads.js';
import { streamWorkflowJobs } from './stream.js';

/** What `job.workflow` reads and writes through, besides the engine. */
export interface WorkflowAccess {
  readonly catalog: WorkerCatalog;
  readonly reader: RecordedReader;
  append(workflowId: string, build: WorkflowAppender): Promise<JobRecord<unknown>[]>;
  graft(job: ClaimedJob, build: WorkflowAppender): Promise<JobRecord<unknown>[]>;
}

/** `job.workflow` for a claimed workflow step. */
export function jobWorkflow(
  ctx: EngineContext,
  access: WorkflowAccess,
  job: ClaimedJob,
  reads: StepReads,
): JobWorkflow {
  const id = job.workflowId!;
  const step = job.workflowStep!;
  const s = sql.raw(ctx.schema);
  const every = allJobs(ctx.schema);
  // Inside a sub-workflow, names resolve among its own steps first.
  const prefix = step.includes('.') ? step.slice(0, step.lastIndexOf('.') + 1) : '';
  const candidates = (name: string) =>
    prefix && !name.startsWith(prefix) ? [`${prefix}${name}`, name] : [name];
  // By id through the deps' edges: a step of a wide workflow reads its few deps, not every step.
  const onlyDeps = sql`j.id = ANY(ARRAY(SELECT e.dep_id FROM ${s}.workflow_deps e WHERE e.job_id = ${job.id}::bigint))`;

  /** Each row's step with its recorded value, or undefined while it has none. */
  const recordedValues = (rows: readonly (StoredRecorded & { step: string })[]) =>
    Promise.all(
      rows.map(async (row) => {
        const value = row.state === 'completed' ? await readRecorded(access.catalog, row) : undefined;
        return { step: row.step, value: value?.status === 'ok' ? value.value : undefined };
      }),
    );
  const manyOf = async (name: string) => {
    const rows = await ctx.database.query<StoredRecorded & { step: string }>(sql`
      SELECT ${recordedColumns('j')}, j.workflow_step AS step FROM ${every} j
      WHERE j.workflow_id = ${id}::uuid AND starts_with(j.workflow_step, ${`${name}.`})`);
    return manyResults({ [name]: 'many' }, await recordedValues(rows))[name] ?? [];
  };

  return {
    id,
    name: job.workflowName,
    step,
    async getRecorded(name: string, worker?: WorkerLike) {
      const names = candidates(name);
      const rows = await ctx.database.query<StoredRecorded & { step: string }>(sql`
        SELECT ${recordedColumns('j')}, j.workflow_step AS step FROM ${every} j
        WHERE j.workflow_id = ${id}::uuid AND j.workflow_step = ANY(${list(names, 'text')})`);
      const found = names.map((candidate) => rows.find((row) => row.step === candidate)).find(Boolean);
      if (!found) {
        const kinds = await workflowKinds(ctx, id);
        const many = names.find((candidate) => kinds[candidate] === 'many');
        if (many !== undefined) return (await manyOf(many)) as never;
        throw new KobanWorkflowError(`workflow ${id} has no step named "${name}" (asked by step "${step}")`);
      }
      const fetcher = worker as Partial<RecordedFetcher<unknown>> | undefined;
      const value =
        typeof fetcher?.fetchRecorded === 'function'
          ? await fetcher.fetchRecorded(access.reader, { id: found.id })
          : await readRecorded(access.catalog, found);
      return value.status === 'ok' ? (value.value as never) : undefined;
    },
    async allRecorded(options = {}) {
      const [rows, kinds] = options.onlyDeps
        ? await Promise.all([reads.deps(job.id), reads.kinds(id)])
        : await Promise.all([
            ctx.database.query<StoredRecorded & { step: string }>(sql`
              SELECT ${recordedColumns('j')}, j.workflow_step AS step FROM ${every} j
              WHERE j.workflow_id = ${id}::uuid
              ORDER BY j.id`),
            workflowKinds(ctx, id),
          ]);
      const values = await recordedValues(rows);
      const all: Record<string, unknown> = {};
      for (const { step, value } of values) if (value !== undefined) all[step] = value;
      return { ...all, ...manyResults(kinds, values) };
    },
    jobs(filter: WorkflowJobsFilter = {}) {
      return workflowJobs(ctx, access.catalog, id, filter, filter.onlyDeps ? onlyDeps : undefined);
    },
    streamJobs(options: WorkflowStreamOptions = {}) {
      return streamWorkflowJobs(ctx, access.catalog, id, options, options.onlyDeps ? onlyDeps : undefined);
    },
    async getContext<Context extends JsonObject>() {
      return (await reads.context(id)) as Context;
    },
    async putContext<Context extends JsonObject>(values: Partial<Context>) {
      const issues =
        typeof values === 'object' && values !== null && !Array.isArray(values)
          ? jsonIssues(values, 'values')
          : [{ path: 'values', message: `expected an object, got ${JSON.stringify(values)}` }];
      if (issues.length > 0) {
        throw new KobanValidationError(
          issues.map((issue) => ({ ...issue, path: `putContext: ${issue.path}` })),
        );
      }
      // One statement: concurrent puts of several steps merge, none is lost.
      const [row] = await ctx.database.query<{ context: JsonObject }>(sql`
        UPDATE ${s}.workflows w SET context = coalesce(w.context, '{}'::jsonb) || ${JSON.stringify(values)}::jsonb
        WHERE w.id = ${id}::uuid
        RETURNING w.context`);
      if (!row) throw new KobanWorkflowError(`workflow ${id} no longer exists (asked by step "${step}")`);
      return row.context as Context;
    },
    append(build: WorkflowAppender) {
      return access.append(id, build);
    },
    graft(build: WorkflowAppender) {
      return access.graft(job, build);
    },
  };
}

/** A workflow's context: `{}` when it has none, or no such workflow exists. */
export async function workflowContext(ctx: EngineContext, workflowId: string): Promise<JsonObject> {
  const [row] = await ctx.database.query<{ context: JsonObject | null }>(
    sql`SELECT w.context FROM ${sql.raw(ctx.schema)}.workflows w WHERE w.id = ${workflowId}::uuid`,
  );
  return row?.context ?? {};
}
