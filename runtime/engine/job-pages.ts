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
  /**
   * A text search (args or meta) reads at most `textSearchWindow` ids a page: when it stopped
   * there, the ids it read (newest to oldest, both included) and `next` continues below them.
   * More jobs may match among the older ones. Null when the page read what it needed.
   */
  readonly searched: { readonly fromId: string; readonly toId: string } | null;
}

/**
 * How many ids a page of a text search reads at most. No index serves a substring of the
 * args' JSON, so a text matching few jobs would read every row of a large history (12.7 s at
 * 1,000,000 jobs); a window keeps each page to a bounded read and says where it stopped.
 */
export const textSearchWindow = 100_000;

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
  const text = search.args !== undefined || search.meta !== undefined;
  if (!text) {
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
    return { jobs, next: more ? encodeCursor(jobs[jobs.length - 1]!.id) : null, searched: null };
  }
  // The other filters and the window of ids go inside, read newest first on the id indexes; the
  // text is matched outside, on that stream, so a common text stops after a page of rows. (With
  // the text beside the id range, the planner misjudges how few rows match and reads the whole
  // window, then sorts it.)
  const others = whereSearch({ ...search, args: undefined, meta: undefined });
  const texts = whereSearch({ args: search.args, meta: search.meta });
  return bounded(ctx, timeoutMs, async (tx) => {
    const top = page.before ?? (await newestId(ctx, tx));
    const floor = Math.max(1, Number(top) - textSearchWindow);
    const rows = await ctx.database.query<JobWireRow>(
      sql`
        SELECT ${jobColumns('j')} FROM (
          SELECT * FROM ${allJobs(ctx.schema)} w
          WHERE ${others} AND id < ${top}::bigint AND id >= ${floor}::bigint
          ORDER BY w.id DESC LIMIT ${textSearchWindow}
        ) j
        WHERE ${texts} ORDER BY j.id DESC LIMIT ${page.limit + 1}`,
      tx,
    );
    const jobs = rows.slice(0, page.limit).map(toStoredJob);
    if (rows.length > page.limit)
      return { jobs, next: encodeCursor(jobs[jobs.length - 1]!.id), searched: null };
    if (floor <= Number(await oldestId(ctx, tx))) return { jobs, next: null, searched: null };
    return {
      jobs,
      next: encodeCursor(String(floor)),
      searched: { fromId: String(BigInt(top) - 1n), toId: String(floor) },
    };
  });
}

/** The oldest job's id: below it, a text search has nothing left to read. */
async function oldestId(ctx: EngineContext, tx: Executor): Promise<string> {
  const [row] = await ctx.database.query<{ id: string }>(
    sql`SELECT id::text AS id FROM ${allJobs(ctx.schema)} j ORDER BY j.id LIMIT 1`,
    tx,
  );
  return row?.id ?? '1';
}

/** One more than the newest job's id (each table's id index, read backwards): where a first page starts. */
async function newestId(ctx: EngineContext, tx: Executor): Promise<string> {
  const [row] = await ctx.database.query<{ id: string }>(
    sql`SELECT (id + 1)::text AS id FROM ${allJobs(ctx.schema)} j ORDER BY j.id DESC LIMIT 1`,
    tx,
  );
  return row?.id ?? '1';
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
