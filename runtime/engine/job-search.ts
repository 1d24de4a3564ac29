import { type SQL, sql } from 'drizzle-orm';
import { KobanValidationError, type ValidationIssue } from '../../sdk/errors.js';
import { checkUuid } from '../../sdk/ids.js';
import { isJobState, type JobState, jobStates } from '../../sdk/states.js';
import { list } from '../database/wire.js';
import type { JobId } from './job-filter.js';
import { toId } from './job-filter.js';

/** A time range: jobs at or after `from` and before `to`; either end may be left open. */
export interface TimeRange {
  readonly from?: Date | string | number;
  readonly to?: Date | string | number;
}

/**
 * What the operator's job search matches; every field narrows it (AND). Lists match any of
 * their values, except `tags`, which a job must all carry. Text matches are case-insensitive
 * substrings of the stored JSON: an encrypted job's args are its envelope, so they never match
 * the plaintext.
 */
export interface JobSearch {
  readonly ids?: readonly JobId[];
  readonly state?: JobState | readonly JobState[];
  readonly queue?: string | readonly string[];
  readonly worker?: string | readonly string[];
  /** Jobs that carry every one of these tags. */
  readonly tags?: readonly string[];
  /** Text in the args as stored (JSON), for example `"orderId":42` or `alice@`. */
  readonly args?: string;
  /** Text in the meta (JSON). */
  readonly meta?: string;
  readonly workflowId?: string;
  readonly batchId?: string;
  readonly inserted?: TimeRange;
  readonly scheduled?: TimeRange;
  readonly attempted?: TimeRange;
  /** When the job completed, was cancelled or discarded. */
  readonly finished?: TimeRange;
}

/** A page of a search: newest first, at most `limit` (default 50, at most 1000), after `cursor`. */
export interface JobPageRequest {
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly cursor?: string | null;
}

export const maxPageSize = 1000;

/** The keys a search may have, for messages about the ones it may not. */
const searchKeys = new Set([
  'ids',
  'state',
  'queue',
  'worker',
  'tags',
  'args',
  'meta',
  'workflowId',
  'batchId',
  'inserted',
  'scheduled',
  'attempted',
  'finished',
]);

const rangeColumns = {
  inserted: 'inserted_at',
  scheduled: 'scheduled_at',
  attempted: 'attempted_at',
  finished: 'coalesce(completed_at, cancelled_at, discarded_at)',
} as const;

/**
 * The SQL condition of a search on the jobs of `all_jobs` (unaliased columns), checked first:
 * every problem is listed with where it is (`search.state[1]: unknown state …`).
 */
export function whereSearch(search: JobSearch, where = 'search'): SQL {
  const issues: ValidationIssue[] = [];
  const conditions: SQL[] = [sql`true`];
  if (search === null || typeof search !== 'object') {
    throw new KobanValidationError([{ path: where, message: `expected an object, got ${typeof search}` }]);
  }
  for (const key of Object.keys(search)) {
    if (!searchKeys.has(key)) {
      issues.push({
        path: `${where}.${key}`,
        message: `unknown filter; expected one of ${[...searchKeys].join(', ')}`,
      });
    }
  }
  if (search.ids !== undefined) {
    const ids = listOf(search.ids, `${where}.ids`, issues).flatMap((id, index) => {
      try {
        return [toId(id as JobId)];
      } catch {
        issues.push({
          path: `${where}.ids[${index}]`,
          message: `expected a job id, got ${JSON.stringify(id)}`,
        });
        return [];
      }
    });
    conditions.push(sql`id = ANY(${list(ids, 'bigint')})`);
  }
  if (search.state !== undefined) {
    const states = textList(search.state, `${where}.state`, issues);
    states.forEach((state, index) => {
      if (!isJobState(state)) {
        issues.push({
          path: `${where}.state${Array.isArray(search.state) ? `[${index}]` : ''}`,
          message: `unknown state ${JSON.stringify(state)}; expected one of ${jobStates.join(', ')}`,
        });
      }
    });
    conditions.push(anyOf('state', states));
  }
  if (search.queue !== undefined) {
    conditions.push(anyOf('queue', textList(search.queue, `${where}.queue`, issues)));
  }
  if (search.worker !== undefined) {
    conditions.push(anyOf('worker', textList(search.worker, `${where}.worker`, issues)));
  }
  if (search.tags !== undefined) {
    const tags = listOf(search.tags, `${where}.tags`, issues).map(String);
    conditions.push(sql`tags @> ${list(tags, 'text')}`);
  }
  for (const key of ['args', 'meta'] as const) {
    const text = search[key];
    if (text === undefined) continue;
    if (typeof text !== 'string' || text.length === 0 || text.length > 200) {
      issues.push({ path: `${where}.${key}`, message: 'expected text of 1 to 200 characters' });
      continue;
    }
    // The text is a literal substring: LIKE's wildcards in it are escaped.
    const pattern = `%${text.replace(/[\\%_]/g, '\\$&')}%`;
    conditions.push(sql`${sql.raw(key)}::text ILIKE ${pattern}`);
  }
  if (search.workflowId !== undefined) {
    conditions.push(sql`workflow_id = ${checkUuid(search.workflowId, 'workflowId', where)}::uuid`);
  }
  if (search.batchId !== undefined) {
    conditions.push(sql`batch_id = ${checkUuid(search.batchId, 'batchId', where)}::uuid`);
  }
  for (const key of ['inserted', 'scheduled', 'attempted', 'finished'] as const) {
    const range = search[key];
    if (range === undefined) continue;
    const column = sql.raw(rangeColumns[key]);
    const from = timeOf(range.from, `${where}.${key}.from`, issues);
    const to = timeOf(range.to, `${where}.${key}.to`, issues);
    if (from !== undefined) conditions.push(sql`${column} >= ${from}::timestamptz`);
    if (to !== undefined) conditions.push(sql`${column} < ${to}::timestamptz`);
  }
  if (issues.length > 0) throw new KobanValidationError(issues);
  return sql.join(conditions, sql` AND `);
}

/** Whether a search selects every job: bulk actions refuse it unless asked for everything. */
export function isEmptySearch(search: JobSearch): boolean {
  return Object.values(search).every((value) => value === undefined);
}

/** A page's size, checked. */
export function pageSize(limit: number | undefined, where: string): number {
  const size = limit ?? 50;
  if (!Number.isInteger(size) || size < 1 || size > maxPageSize) {
    throw new KobanValidationError([
      { path: `${where}.limit`, message: `expected an integer from 1 to ${maxPageSize}, got ${size}` },
    ]);
  }
  return size;
}

/** Cursors are the last id of a page, opaque to callers: `j` and the id in base 36. */
export function encodeCursor(id: string): string {
  return `j${BigInt(id).toString(36)}`;
}

export function decodeCursor(cursor: string | null | undefined, where: string): string | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  const match = typeof cursor === 'string' ? /^j([0-9a-z]{1,13})$/.exec(cursor) : null;
  if (match) {
    const id = [...match[1]!].reduce((value, digit) => value * 36n + BigInt(Number.parseInt(digit, 36)), 0n);
    if (id > 0n && id <= 9223372036854775807n) return id.toString();
  }
  throw new KobanValidationError([
    {
      path: `${where}.cursor`,
      message: `expected the next cursor of a previous page, got ${JSON.stringify(cursor)}`,
    },
  ]);
}

/**
 * `column = value` for one value, `= ANY(list)` for more: the planner reads an index on
 * (column, id) in id order for an equality only, which is what makes a deep page cheap.
 */
function anyOf(column: 'state' | 'queue' | 'worker', values: readonly string[]): SQL {
  return values.length === 1
    ? sql`${sql.raw(column)} = ${values[0]}`
    : sql`${sql.raw(column)} = ANY(${list(values, 'text')})`;
}

function listOf(value: unknown, where: string, issues: ValidationIssue[]): unknown[] {
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > maxPageSize) {
      issues.push({ path: where, message: `expected 1 to ${maxPageSize} values, got ${value.length}` });
    }
    return value;
  }
  issues.push({ path: where, message: `expected a list, got ${typeof value}` });
  return [];
}

function textList(value: unknown, where: string, issues: ValidationIssue[]): string[] {
  const values = typeof value === 'string' ? [value] : listOf(value, where, issues);
  return values.flatMap((item, index) => {
    if (typeof item === 'string' && item.length > 0 && item.length <= 255) return [item];
    issues.push({
      path: Array.isArray(value) ? `${where}[${index}]` : where,
      message: `expected a name of 1 to 255 characters, got ${JSON.stringify(item)}`,
    });
    return [];
  });
}

function timeOf(value: unknown, where: string, issues: ValidationIssue[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const date =
    value instanceof Date
      ? value
      : typeof value === 'string' || typeof value === 'number'
        ? new Date(value)
        : null;
  if (!date || Number.isNaN(date.getTime())) {
    issues.push({
      path: where,
      message: `expected a time (a Date, ISO text or epoch ms), got ${JSON.stringify(value)}`,
    });
    return undefined;
  }
  return date.toISOString();
}
