import { type SQL, sql } from 'drizzle-orm';
import { KobanValidationError } from '../sdk/errors.js';
import { type JobRecord, type JobState, jobStates } from '../sdk/job.js';
import type { Database } from './database.js';
import { type JobRow, jobColumns, toJobRecord } from './job-row.js';

export type JobId = string | number | bigint;

export interface JobFilter {
  queue?: string;
  state?: JobState | readonly JobState[];
  worker?: string;
  /** At most this many jobs, newest first. Default 100. */
  limit?: number;
}

/** Which jobs a bulk command touches: a list of ids, or a filter. */
export type JobSelection = readonly JobId[] | Omit<JobFilter, 'limit'>;

export async function getJob(database: Database, schema: string, id: JobId): Promise<JobRecord | null> {
  const rows = await database.query<JobRow>(
    sql`SELECT ${sql.raw(jobColumns)} FROM ${sql.raw(schema)}.jobs WHERE id = ${toId(id)}::bigint`,
  );
  return rows[0] ? toJobRecord(rows[0]) : null;
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
    SELECT ${sql.raw(jobColumns)} FROM ${sql.raw(schema)}.jobs
    WHERE ${whereFilter(filter)} ORDER BY id DESC LIMIT ${limit}`);
  return rows.map((row) => toJobRecord(row));
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
  if (filter.state !== undefined) {
    const states = typeof filter.state === 'string' ? [filter.state] : [...filter.state];
    const unknown = states.filter((state) => !(jobStates as readonly string[]).includes(state));
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
