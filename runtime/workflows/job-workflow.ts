import { sql } from 'drizzle-orm';
import { KobanWorkflowError } from '../../sdk/errors.js';
import type { JobRecord } from '../../sdk/job.js';
import type { RecordedFetcher, RecordedReader } from '../../sdk/recorded.js';
import type {
  JobWorkflow,
  WorkerLike,
  WorkflowAppender,
  WorkflowJobsFilter,
} from '../../sdk/workflow-context.js';
import type { Database } from '../database/database.js';
import type { ClaimedRow } from '../engine/claim.js';
import { type JobRow, jobRowColumns } from '../engine/job-row.js';
import { readableJobs } from '../job-queries.js';
import { readRecorded, recordedColumns, type StoredRecorded } from '../workers/recorded.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

/** What `job.workflow` reads and writes through. */
export interface WorkflowAccess {
  readonly database: Database;
  readonly schema: string;
  readonly catalog: WorkerCatalog;
  readonly reader: RecordedReader;
  append(workflowId: string, build: WorkflowAppender): Promise<JobRecord<unknown>[]>;
}

/** `job.workflow` for a claimed workflow step. */
export function jobWorkflow(access: WorkflowAccess, row: ClaimedRow): JobWorkflow {
  const id = row.workflowId!;
  const step = row.workflowStep!;
  const jobId = String(row.id);
  const s = sql.raw(access.schema);
  // Inside a sub-workflow, names resolve among its own steps first.
  const prefix = step.includes('.') ? step.slice(0, step.lastIndexOf('.') + 1) : '';
  const candidates = (name: string) =>
    prefix && !name.startsWith(prefix) ? [`${prefix}${name}`, name] : [name];
  const onlyDeps = sql`j.id IN (SELECT e.dep_id FROM ${s}.workflow_deps e WHERE e.job_id = ${jobId}::bigint)`;

  return {
    id,
    name: row.workflowName,
    step,
    async getRecorded(name: string, worker?: WorkerLike) {
      const names = candidates(name);
      const rows = await access.database.query<StoredRecorded & { step: string }>(sql`
        SELECT ${recordedColumns('j')}, j.workflow_step AS step FROM ${s}.jobs j
        WHERE j.workflow_id = ${id}::uuid AND j.workflow_step = ANY(${sql.param(names)}::text[])`);
      const found = names.map((candidate) => rows.find((row) => row.step === candidate)).find(Boolean);
      if (!found) {
        throw new KobanWorkflowError(`workflow ${id} has no step named "${name}" (asked by step "${step}")`);
      }
      const fetcher = worker as Partial<RecordedFetcher<unknown>> | undefined;
      const value =
        typeof fetcher?.fetchRecorded === 'function'
          ? await fetcher.fetchRecorded(access.reader, { id: String(found.id) })
          : await readRecorded(access.catalog, found);
      return value.status === 'ok' ? (value.value as never) : undefined;
    },
    async allRecorded(options = {}) {
      const rows = await access.database.query<StoredRecorded & { step: string }>(sql`
        SELECT ${recordedColumns('j')}, j.workflow_step AS step FROM ${s}.jobs j
        WHERE j.workflow_id = ${id}::uuid AND j.state = 'completed' AND j.recorded IS NOT NULL
          AND ${options.onlyDeps ? onlyDeps : sql`true`}
        ORDER BY j.id`);
      const values: Record<string, unknown> = {};
      for (const row of rows) {
        const value = await readRecorded(access.catalog, row);
        if (value.status === 'ok') values[row.step] = value.value;
      }
      return values;
    },
    jobs(filter: WorkflowJobsFilter = {}) {
      return workflowJobs(access, id, filter, filter.onlyDeps ? onlyDeps : undefined);
    },
    append(build: WorkflowAppender) {
      return access.append(id, build);
    },
  };
}

/** The jobs of a workflow, in insert order, with args readable where this node has the keys. */
async function workflowJobs(
  access: Pick<WorkflowAccess, 'database' | 'schema' | 'catalog'>,
  workflowId: string,
  filter: WorkflowJobsFilter,
  extra?: ReturnType<typeof sql>,
): Promise<JobRecord[]> {
  const rows = await access.database.query<JobRow>(sql`
    SELECT ${jobRowColumns('j')} FROM ${sql.raw(access.schema)}.jobs j
    WHERE j.workflow_id = ${workflowId}::uuid
      AND ${filter.names ? sql`j.workflow_step = ANY(${sql.param([...filter.names])}::text[])` : sql`true`}
      AND ${filter.states ? sql`j.state = ANY(${sql.param([...filter.states])}::text[])` : sql`true`}
      AND ${extra ?? sql`true`}
    ORDER BY j.id`);
  return readableJobs(access.catalog, rows);
}
