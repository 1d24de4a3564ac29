import { type SQL, sql } from 'drizzle-orm';
import { KobanValidationError } from '../../sdk/errors.js';
import { checkUuid } from '../../sdk/ids.js';
import { isJobState, type JobState, jobStates } from '../../sdk/states.js';
import { list } from '../database/wire.js';

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
  if (Array.isArray(selection)) return sql`id = ANY(${list(selection.map(toId), 'bigint')})`;
  return whereFilter(selection as JobFilter);
}

export function whereFilter(filter: JobFilter): SQL {
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
    conditions.push(sql`state = ANY(${list(states, 'text')})`);
  }
  return sql.join(conditions, sql` AND `);
}

const maxBigint = 9223372036854775807n;

/** A job id as the engine takes it: the text of a positive bigint. */
export function toId(id: JobId): string {
  const text = String(id);
  if (!/^[1-9][0-9]{0,18}$/.test(text) || BigInt(text) > maxBigint) {
    throw new KobanValidationError([
      { path: 'id', message: `expected a job id (a positive integer), got ${JSON.stringify(text)}` },
    ]);
  }
  return text;
}
