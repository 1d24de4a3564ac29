import { sql } from 'drizzle-orm';
import { KobanValidationError } from '../../sdk/errors.js';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import { allJobs as everyJob } from './history.js';
import { type JobFilter, whereFilter } from './job-filter.js';
import {
  type JobWireRow,
  jobColumns,
  recordedColumns,
  type StoredJob,
  type StoredRecorded,
  toStoredJob,
} from './records.js';

export async function getJob({ database, schema }: EngineContext, id: string): Promise<StoredJob | null> {
  const rows = await database.query<JobWireRow>(
    sql`SELECT ${jobColumns('j')} FROM ${everyJob(schema)} j WHERE j.id = ${id}::bigint`,
  );
  return rows[0] ? toStoredJob(rows[0]) : null;
}

/** Jobs matching a filter, newest first, at most `filter.limit` (default 100). */
export async function listJobs({ database, schema }: EngineContext, filter: JobFilter): Promise<StoredJob[]> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KobanValidationError([
      { path: 'listJobs.limit', message: `expected a positive integer, got ${limit}` },
    ]);
  }
  const rows = await database.query<JobWireRow>(sql`
    SELECT ${jobColumns('j')} FROM ${everyJob(schema)} j
    WHERE ${whereFilter(filter)} ORDER BY j.id DESC LIMIT ${limit}`);
  return rows.map(toStoredJob);
}

/** Every job matching a filter, oldest first: for the drainer and the testing helpers. */
export async function allJobs(
  { database, schema }: EngineContext,
  filter: Omit<JobFilter, 'limit'>,
): Promise<StoredJob[]> {
  const rows = await database.query<JobWireRow>(sql`
    SELECT ${jobColumns('j')} FROM ${everyJob(schema)} j WHERE ${whereFilter(filter)} ORDER BY j.id`);
  return rows.map(toStoredJob);
}

/** The jobs of these ids that exist, in no set order: what a wait for jobs to finish polls. */
export async function jobsByIds(
  { database, schema }: EngineContext,
  ids: readonly string[],
): Promise<StoredJob[]> {
  const rows = await database.query<JobWireRow>(
    sql`SELECT ${jobColumns('j')} FROM ${everyJob(schema)} j WHERE j.id = ANY(${list(ids, 'bigint')})`,
  );
  return rows.map(toStoredJob);
}

/** The queues that have available jobs (or just `queue`, if it has any). */
export async function availableQueues(
  { database, schema }: EngineContext,
  queue?: string,
): Promise<string[]> {
  const rows = await database.query<{ queue: string }>(sql`
    SELECT DISTINCT queue FROM ${sql.raw(schema)}.jobs
    WHERE state = 'available' AND ${queue === undefined ? sql`true` : sql`queue = ${queue}`}`);
  return rows.map((row) => row.queue);
}

/**
 * Which of `queues` have an available job: one probe of the fetch index per queue, so that an
 * idle node's poll is one statement however many queues it runs.
 */
export async function queuesWithAvailable(
  { database, schema }: EngineContext,
  queues: readonly string[],
): Promise<string[]> {
  const rows = await database.query<{ queue: string }>(sql`
    SELECT q.queue FROM unnest(${list(queues, 'text')}) AS q(queue)
    WHERE EXISTS (SELECT 1 FROM ${sql.raw(schema)}.jobs j WHERE j.state = 'available' AND j.queue = q.queue)`);
  return rows.map((row) => row.queue);
}

/** The ids of the available jobs of a workflow or batch, in run order. */
export async function availableIn(
  { database, schema }: EngineContext,
  scope: { workflowId?: string; batchId?: string },
): Promise<string[]> {
  const rows = await database.query<{ id: string }>(sql`
    SELECT j.id::text AS id FROM ${sql.raw(schema)}.jobs j
    WHERE j.state = 'available'
      AND ${scope.workflowId === undefined ? sql`true` : sql`j.workflow_id = ${scope.workflowId}::uuid`}
      AND ${scope.batchId === undefined ? sql`true` : sql`j.batch_id = ${scope.batchId}::uuid`}
    ORDER BY j.priority, j.scheduled_at, j.id`);
  return rows.map((row) => row.id);
}

/** What reading a job's recorded value needs; null for an unknown id. */
export async function recordedOf(
  { database, schema }: EngineContext,
  id: string,
): Promise<StoredRecorded | null> {
  const [row] = await database.query<StoredRecorded>(
    sql`SELECT ${recordedColumns('j')} FROM ${everyJob(schema)} j WHERE j.id = ${id}::bigint`,
  );
  return row ?? null;
}
