import { sql } from 'drizzle-orm';
import type { BatchCallback } from '../../sdk/batch-context.js';
import type { JobState } from '../../sdk/states.js';
import { callbacksOf } from '../batches/status.js';
import { toDate, toDateOrNull } from '../database/wire.js';
import type { EngineContext } from './context.js';
import { allJobs } from './history.js';
import type { NodeReport } from './nodes.js';

// What the operator's view reads of the whole cluster, from the database, whichever process
// asks: counts per queue and state, the nodes and what they run, the leader, cron runs,
// workflows and batches. None of it touches a row the claim or the ack locks.

export interface StoredQueueCounts {
  readonly queue: string;
  readonly counts: Partial<Record<JobState, number>>;
  /** When the oldest available job became due, or null when none is available. */
  readonly oldestAvailableAt: Date | null;
  /** The pause and limit stored by pauseQueue, resumeQueue and scaleQueue. */
  readonly stored: { paused: boolean; limit: number | null } | null;
  /** Whether the finished counts are estimated from a sample of a large history. */
  readonly estimated: boolean;
}

/** Above this many rows in the history (by the planner's estimate), finished jobs are counted on a sample. */
const exactHistoryRows = 200_000;

/** Counts per queue and state (the hot table and the history), with the oldest available job. */
export async function queueCounts({ database, schema }: EngineContext): Promise<StoredQueueCounts[]> {
  const s = sql.raw(schema);
  // Counting a history of millions exactly takes seconds each time the overview refreshes: past
  // a size, a block sample of about exactHistoryRows rows is counted and scaled. Unfinished jobs
  // (the hot table) are always counted exactly.
  const [size] = await database.query<{ rows: number }>(sql`
    SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 AS rows
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = ${schema} AND p.relname = 'job_history'`);
  const historyRows = size?.rows ?? 0;
  const percent =
    historyRows > exactHistoryRows ? Math.max(0.1, (100 * exactHistoryRows) / historyRows) : 100;
  const history =
    percent < 100
      ? sql`SELECT queue, state, round(count(*) * ${100 / percent}::float8)::int AS n
          FROM ${s}.job_history TABLESAMPLE SYSTEM (${percent}) GROUP BY queue, state`
      : sql`SELECT queue, state, count(*)::int AS n FROM ${s}.job_history GROUP BY queue, state`;
  const rows = await database.query<{
    queue: string;
    counts: Record<JobState, number> | null;
    oldest: number | null;
    paused: boolean | null;
    limit: number | null;
    stored: boolean;
  }>(sql`
    WITH counted AS (
      SELECT queue, state, count(*)::int AS n FROM ${s}.jobs GROUP BY queue, state
      UNION ALL
      ${history}
    ), per_queue AS (
      SELECT queue, jsonb_object_agg(state, n) AS counts
      FROM (SELECT queue, state, sum(n)::int AS n FROM counted GROUP BY queue, state) c GROUP BY queue
    ), names AS (
      SELECT queue FROM per_queue UNION SELECT name FROM ${s}.queues
      UNION SELECT unnest(queues) FROM ${s}.nodes
    )
    SELECT n.queue, p.counts, q.paused, q."limit", q.name IS NOT NULL AS stored,
      (SELECT date_part('epoch', min(j.scheduled_at)) * 1000 FROM ${s}.jobs j
        WHERE j.state = 'available' AND j.queue = n.queue) AS oldest
    FROM names n LEFT JOIN per_queue p ON p.queue = n.queue LEFT JOIN ${s}.queues q ON q.name = n.queue
    ORDER BY n.queue`);
  return rows.map((row) => ({
    queue: row.queue,
    counts: row.counts ?? {},
    oldestAvailableAt: toDateOrNull(row.oldest),
    stored: row.stored ? { paused: row.paused ?? false, limit: row.limit } : null,
    estimated: percent < 100,
  }));
}

export interface StoredNode {
  readonly name: string;
  readonly queues: string[];
  readonly report: Partial<NodeReport>;
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
  /** Milliseconds since the last heartbeat, by the database's clock. */
  readonly silentMs: number;
}

export interface StoredCluster {
  readonly nodes: StoredNode[];
  readonly leader: { node: string; expiresAt: Date } | null;
}

export async function clusterNodes({ database, schema }: EngineContext): Promise<StoredCluster> {
  const s = sql.raw(schema);
  const nodes = await database.query<{
    name: string;
    queues: string[] | null;
    report: Partial<NodeReport> | null;
    startedAt: number;
    heartbeatAt: number;
    silentMs: number;
  }>(sql`
    SELECT name, to_json(queues) AS queues, report,
      date_part('epoch', started_at) * 1000 AS "startedAt",
      date_part('epoch', heartbeat_at) * 1000 AS "heartbeatAt",
      date_part('epoch', now() - heartbeat_at) * 1000 AS "silentMs"
    FROM ${s}.nodes ORDER BY name`);
  const [leader] = await database.query<{ node: string; expiresAt: number }>(sql`
    SELECT node, date_part('epoch', expires_at) * 1000 AS "expiresAt"
    FROM ${s}.leaders WHERE name = 'koban' AND expires_at > now()`);
  return {
    nodes: nodes.map((row) => ({
      name: row.name,
      queues: row.queues ?? [],
      report: row.report ?? {},
      startedAt: toDate(row.startedAt),
      heartbeatAt: toDate(row.heartbeatAt),
      silentMs: row.silentMs,
    })),
    leader: leader ? { node: leader.node, expiresAt: toDate(leader.expiresAt) } : null,
  };
}

export interface StoredCronRun {
  readonly name: string;
  readonly jobId: string;
  readonly state: JobState;
  readonly tick: string | null;
  readonly insertedAt: Date;
}

/**
 * The last job of each cron entry. A tick's job keeps its unique key for good, so it stays in
 * the hot table (never in the history) until it is pruned: this reads only that table.
 */
export async function lastCronRuns({ database, schema }: EngineContext): Promise<StoredCronRun[]> {
  const rows = await database.query<{
    name: string;
    jobId: string;
    state: JobState;
    tick: string | null;
    insertedAt: number;
  }>(sql`
    SELECT DISTINCT ON (meta->>'cron') meta->>'cron' AS name, id::text AS "jobId", state,
      meta->>'cronTick' AS tick, date_part('epoch', inserted_at) * 1000 AS "insertedAt"
    FROM ${sql.raw(schema)}.jobs
    WHERE unique_key LIKE 'cron:%' AND meta ? 'cron'
    ORDER BY meta->>'cron', id DESC`);
  return rows.map((row) => ({ ...row, insertedAt: toDate(row.insertedAt) }));
}

/** The id of the job an operator's run of a configured cron entry inserted, by its unique key; null until a node has. */
export async function cronRunJob(
  { database, schema }: EngineContext,
  uniqueKey: string,
): Promise<string | null> {
  const rows = await database.query<{ id: string }>(
    sql`SELECT id::text AS id FROM ${sql.raw(schema)}.jobs WHERE unique_active = ${uniqueKey}`,
  );
  return rows[0]?.id ?? null;
}

export interface StoredFlowSummary {
  readonly id: string;
  readonly name: string | null;
  readonly insertedAt: Date;
  readonly counts: Partial<Record<JobState, number>>;
}

/** The newest workflows, with their steps' counts per state. */
export async function workflowSummaries(
  { database, schema }: EngineContext,
  limit: number,
): Promise<StoredFlowSummary[]> {
  const s = sql.raw(schema);
  const rows = await database.query<{
    id: string;
    name: string | null;
    insertedAt: number;
    counts: Record<JobState, number> | null;
  }>(sql`
    SELECT w.id::text AS id, w.name, date_part('epoch', w.inserted_at) * 1000 AS "insertedAt",
      (SELECT jsonb_object_agg(c.state, c.n) FROM (
        SELECT j.state, count(*)::int AS n FROM ${allJobs(schema)} j WHERE j.workflow_id = w.id GROUP BY j.state
      ) c) AS counts
    FROM ${s}.workflows w ORDER BY w.inserted_at DESC, w.id LIMIT ${limit}`);
  return rows.map((row) => ({ ...row, insertedAt: toDate(row.insertedAt), counts: row.counts ?? {} }));
}

export interface StoredBatchSummary {
  readonly id: string;
  readonly name: string | null;
  readonly insertedAt: Date;
  readonly total: number;
  readonly completed: number;
  readonly discarded: number;
  readonly cancelled: number;
  readonly retryable: number;
  /** The callbacks the batch's callback worker implements. */
  readonly callbacks: readonly BatchCallback[];
  /** Those inserted so far, each at most once. */
  readonly fired: readonly BatchCallback[];
}

/** The newest batches with the counts their rows keep. */
export async function batchSummaries(
  { database, schema }: EngineContext,
  limit: number,
): Promise<StoredBatchSummary[]> {
  const rows = await database.query<
    Omit<StoredBatchSummary, 'insertedAt' | 'callbacks' | 'fired'> & {
      insertedAt: number;
      callbacks: number;
      fired: number;
    }
  >(sql`
    SELECT id::text AS id, name, date_part('epoch', inserted_at) * 1000 AS "insertedAt",
      total, completed, discarded, cancelled, retryable, callbacks, fired
    FROM ${sql.raw(schema)}.batches ORDER BY inserted_at DESC, id LIMIT ${limit}`);
  return rows.map((row) => ({
    ...row,
    insertedAt: toDate(row.insertedAt),
    callbacks: callbacksOf(row.callbacks),
    fired: callbacksOf(row.fired),
  }));
}
