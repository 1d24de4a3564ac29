import { type SQL, sql } from 'drizzle-orm';
import { KobanDatabaseError } from '../../sdk/errors.js';
import type { Executor } from '../database/executor.js';
import type { EngineContext } from './context.js';
import { allJobs } from './history.js';
import { encodeCursor, type JobSearch, whereSearch } from './job-search.js';
import { type JobWireRow, jobColumns, type StoredJob, toStoredJob } from './records.js';

/** Where a page starts: at most `limit` jobs with ids below `before` (all, without it). */
export interface JobKeyset {
  readonly limit: number;
  readonly before: string | undefined;
}

/** A page of jobs, newest first; `next` reads the page after it, null on the last. */
export interface StoredJobPage {
  readonly jobs: StoredJob[];
  readonly next: string | null;
}

/**
 * Runs `read` in a transaction whose statements stop after `timeoutMs`, so that a search no
 * index serves (text in the args of a million jobs) cannot hold a connection and the database
 * for long. The error says what to narrow.
 */
async function bounded<T>(
  { database }: EngineContext,
  timeoutMs: number,
  read: (tx: Executor) => Promise<T>,
): Promise<T> {
  try {
    return await database.transaction(async (tx) => {
      await database.query(
        sql.raw(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`),
        tx,
      );
      return read(tx);
    });
  } catch (error) {
    if (
      (error as { code?: string }).code === '57014' ||
      (error as { cause?: { code?: string } }).cause?.code === '57014'
    ) {
      throw new KobanDatabaseError(
        `the job search took longer than ${timeoutMs} ms and was stopped; narrow it by queue, state, worker or a time range`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * One page of the jobs a search matches, newest first, after the id `before` (keyset
 * pagination: each page is an index range, however deep, and never skips or repeats a job as
 * jobs come and go). `all_jobs` is a UNION ALL view, so the conditions and the order reach both
 * tables and every history partition, each read backwards on its id index.
 */
export async function searchJobs(
  ctx: EngineContext,
  search: JobSearch,
  page: JobKeyset,
  timeoutMs: number,
): Promise<StoredJobPage> {
  const where = whereSearch(search);
  const after = page.before === undefined ? sql`true` : sql`id < ${page.before}::bigint`;
  const rows = await bounded(ctx, timeoutMs, (tx) =>
    ctx.database.query<JobWireRow>(
      sql`
        SELECT ${jobColumns('j')} FROM ${allJobs(ctx.schema)} j
        WHERE ${where} AND ${after} ORDER BY j.id DESC LIMIT ${page.limit + 1}`,
      tx,
    ),
  );
  const jobs = rows.slice(0, page.limit).map(toStoredJob);
  const more = rows.length > page.limit;
  return { jobs, next: more ? encodeCursor(jobs[jobs.length - 1]!.id) : null };
}

/** How many jobs a search matches, within the same time bound. */
export async function countJobs(ctx: EngineContext, search: JobSearch, timeoutMs: number): Promise<number> {
  const where: SQL = whereSearch(search);
  const [row] = await bounded(ctx, timeoutMs, (tx) =>
    ctx.database.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM ${allJobs(ctx.schema)} j WHERE ${where}`,
      tx,
    ),
  );
  return row?.n ?? 0;
}

/**
 * The ids of the next `limit` jobs a search matches below the id `before`, newest first: how a
 * bulk action walks everything a filter matches, one batch per transaction, each job once.
 */
export async function searchIds(
  ctx: EngineContext,
  search: JobSearch,
  page: JobKeyset,
  timeoutMs: number,
): Promise<string[]> {
  const where = whereSearch(search);
  const after = page.before === undefined ? sql`true` : sql`id < ${page.before}::bigint`;
  const rows = await bounded(ctx, timeoutMs, (tx) =>
    ctx.database.query<{ id: string }>(
      sql`
        SELECT id::text AS id FROM ${allJobs(ctx.schema)} j
        WHERE ${where} AND ${after} ORDER BY j.id DESC LIMIT ${page.limit}`,
      tx,
    ),
  );
  return rows.map((row) => row.id);
}
