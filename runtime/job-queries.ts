import { type SQL, sql } from 'drizzle-orm';
import { KobanValidationError } from '../sdk/errors.js';
import { checkUuid } from '../sdk/ids.js';
import type { JobRecord, JsonObject } from '../sdk/job.js';
import { isJobState, type JobState, jobStates } from '../sdk/states.js';
import type { Database } from './database/database.js';
import { type JobRow, jobRowColumns, toJob } from './engine/job-row.js';
import { readableArgs } from './workers/stored-args.js';
import type { WorkerCatalog } from './workers/worker-catalog.js';

export type JobId = string | number | bigint;

export interface JobFilter {
  queue?: string;
  state?: JobState | readonly JobState[];
  worker?: string;
  /** The steps of one workflow. */
  workflowId?: string;
  /** The jobs of one batch, callback jobs included. */
  batchId?: string;
  /** At most this many jobs, newest first. Default 100. */
  limit?: number;
}

/** Which jobs a bulk command touches: a list of ids, or a filter. */
export type JobSelection = readonly JobId[] | Omit<JobFilter, 'limit'>;

export async function getJob(database: Database, schema: string, id: JobId): Promise<JobRecord | null> {
  const rows = await database.query<JobRow>(
    sql`SELECT ${jobRowColumns('j')} FROM ${sql.raw(schema)}.jobs j WHERE j.id = ${toId(id)}::bigint`,
  );
  return rows[0] ? toJob(rows[0], rows[0].args as JsonObject) : null;
}

export async function listJobs(
  database: Database,
  schema: string,
  filter: JobFilter = {},
): Promise<JobRecord[]> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KobanValidationError([
      { path: 'listJobs.limit', message: `expected a positive integer, got ${limit}` },
    ]);
  }
  const rows = await database.query<JobRow>(sql`
    SELECT ${jobRowColumns('jobs')} FROM ${sql.raw(schema)}.jobs
    WHERE ${whereFilter(filter)} ORDER BY id DESC LIMIT ${limit}`);
  return rows.map((row) => toJob(row, row.args as JsonObject));
}

/** The SQL condition for a selection of jobs. */
export function whereSelection(selection: JobSelection): SQL {
  if (!Array.isArray(selection) && Object.values(selection).every((value) => value === undefined)) {
    throw new KobanValidationError([
      {
        path: 'selection',
        message: 'an empty filter would select every job; pass ids, or a filter with queue, state or worker',
      },
    ]);
  }
  if (Array.isArray(selection)) {
    return sql`id = ANY(${sql.param(selection.map(toId))}::bigint[])`;
  }
  return whereFilter(selection as JobFilter);
}

function whereFilter(filter: JobFilter): SQL {
  const conditions: SQL[] = [sql`true`];
  if (filter.queue !== undefined) conditions.push(sql`queue = ${filter.queue}`);
  if (filter.worker !== undefined) conditions.push(sql`worker = ${filter.worker}`);
  if (filter.workflowId !== undefined) {
    conditions.push(sql`workflow_id = ${checkUuid(filter.workflowId, 'workflowId', 'filter')}::uuid`);
  }
  if (filter.batchId !== undefined) {
    conditions.push(sql`batch_id = ${checkUuid(filter.batchId, 'batchId', 'filter')}::uuid`);
  }
  if (filter.state !== undefined) {
    const states = typeof filter.state === 'string' ? [filter.state] : [...filter.state];
    const unknown = states.filter((state) => !isJobState(state));
    if (unknown.length > 0) {
      throw new KobanValidationError([
        {
          path: 'filter.state',
          message: `unknown state ${unknown.join(', ')}; expected one of ${jobStates.join(', ')}`,
        },
      ]);
    }
    conditions.push(sql`state = ANY(${sql.param(states)}::text[])`);
  }
  return sql.join(conditions, sql` AND `);
}

const maxBigint = 9223372036854775807n;

export function toId(id: JobId): string {
  const text = String(id);
  if (!/^[1-9][0-9]{0,18}$/.test(text) || BigInt(text) > maxBigint) {
    throw new KobanValidationError([
      { path: 'id', message: `expected a job id (a positive integer), got ${JSON.stringify(text)}` },
    ]);
  }
  return text;
}

/** The queues that have available jobs (or just `queue`, if it has any). */
export async function availableQueues(database: Database, schema: string, queue?: string): Promise<string[]> {
  const rows = await database.query<{ queue: string }>(sql`
    SELECT DISTINCT queue FROM ${sql.raw(schema)}.jobs
    WHERE state = 'available' AND ${queue === undefined ? sql`true` : sql`queue = ${queue}`}`);
  return rows.map((row) => row.queue);
}

/** Every job matching a filter, oldest first, with args opened where this node has the keys. */
export async function allJobs(
  database: Database,
  schema: string,
  catalog: WorkerCatalog,
  filter: Omit<JobFilter, 'limit'>,
): Promise<JobRecord[]> {
  const rows = await database.query<JobRow>(sql`
    SELECT ${jobRowColumns('jobs')} FROM ${sql.raw(schema)}.jobs WHERE ${whereFilter(filter)} ORDER BY id`);
  return readableJobs(catalog, rows);
}

/** Jobs as records, with args opened where this node has the worker's keys. */
export async function readableJobs(catalog: WorkerCatalog, rows: readonly JobRow[]): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  for (const row of rows) {
    const entry = await catalog.entryForName(row.worker);
    jobs.push(toJob(row, readableArgs(entry, row.args, String(row.id)) as JsonObject));
  }
  return jobs;
}
