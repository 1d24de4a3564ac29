import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../database/executor.js';
import { list } from '../database/wire.js';
import { type ClaimedJob, claimInOrder } from './claim.js';
import type { EngineContext } from './context.js';
import { beforeDeadline } from './deadlines.js';
import {
  type ChainFailure,
  claimsInOrder,
  type FlowLimits,
  type LimitedClaim,
  type LimitedClaimOptions,
  type PartitionBy,
  type WorkerChainLimit,
  weightCap,
  weightKey,
} from './flow.js';
import { pastPosition, type QueuePosition } from './queue-position.js';
import { transactionDeadline } from './transaction-deadline.js';

/**
 * The first key of the advisory locks that serialise the limited claims of one queue (the second
 * is the hash of the schema and queue name). Kept apart from the migrator's lock.
 */
const flowLockSpace = 7_361_205;

/**
 * Claims up to `demand` jobs of a queue that has cluster-wide limits. Claims of one limited queue
 * take turns on a transaction-scoped advisory lock; each then reads, in a snapshot taken after
 * the lock, what runs (the executing rows of the queue) and what started in the rate window (the
 * starts that earlier claims recorded in their own transactions), and takes only what fits. So no
 * two claims can both see the same free slot, whatever the number of nodes, and a slot is given
 * back by whatever takes the job out of `executing`: an ack, a rescue, a cancel. It is free
 * already when the node that runs the job says its attempt has ended (`finished`), while its
 * outcome is being written: the job runs no more, so the slot is not held for the write. Plain
 * queues never come here: they keep the lean claim of claim.ts. A claim in the queue's order
 * (`claimsInOrder`) starts past `after` when given, and says where its last job was.
 */
export async function claimLimited(
  ctx: EngineContext,
  queue: string,
  demand: number,
  node: string,
  flow: FlowLimits,
  options: LimitedClaimOptions = {},
): Promise<LimitedClaim> {
  const { database, schema } = ctx;
  const { deadlineMs, finished = [] } = options;
  const inOrder = claimsInOrder(flow);
  const after = inOrder ? options.after : undefined;
  let last: QueuePosition | undefined;
  const jobs = await database.transaction(async (tx) => {
    const deadline =
      deadlineMs === undefined ? undefined : database.query(transactionDeadline(deadlineMs), tx);
    const locked = database.query(
      sql`SELECT pg_advisory_xact_lock(${flowLockSpace}, hashtext(${`${schema}.${queue}`}))${killingScans(flow)}`,
      tx,
    );
    const jobs: ClaimedJob[] = [];
    for (let round = 0; round < maxRounds && jobs.length < demand; round++) {
      const claiming = claimInOrder(
        ctx,
        limitedSelection(schema, queue, demand - jobs.length, flow, finished, after),
        node,
        tx,
      );
      // The first claim is sent behind the lock on the same connection, without waiting for its
      // answer: it runs, and takes its snapshot, only once the lock is held, and the lock is not
      // held across a round trip to this process.
      const [claimed] = round === 0 ? await Promise.all([claiming, locked, deadline]) : [await claiming];
      const taken = claimed.jobs;
      if (inOrder) last = claimed.last;
      if (flow.rateLimit && taken.length > 0)
        await recordStarts(
          ctx,
          tx,
          queue,
          flow,
          taken.map((job) => job.id),
        );
      jobs.push(...taken);
      // Another round helps only where this one stopped at partitions it filled: they now count
      // as running, so the next scan skips them and reaches the partitions queued behind them.
      if (taken.length === 0 || !flow.partition) break;
    }
    return jobs;
  });
  if (jobs.length === demand) return { jobs, last, held: false, retryInMs: null };
  // What was held back is read after the commit: it decides when to look again, not what to take.
  return { jobs, last, ...(await heldBack(ctx, queue, flow, after)) };
}

/**
 * Turns bitmap scans off for the claim's transaction. The executing jobs a claim counts are read
 * through `jobs_executing_idx`, where every job that ran leaves an entry until vacuum; a bitmap
 * scan reads each of them on every claim and never marks one dead, where an index scan marks
 * the entries of rows dead to every snapshot as it passes. After a long transaction held the
 * xmin horizon, bitmap scans re-read every job run during it on each claim until vacuum: 898,868
 * entries for 2,000 jobs in test/flow/limited-claim-scans.test.ts, under 20,000 with index scans.
 * The price: the index holds every queue's executing jobs, and an index scan fetches each row to
 * see its queue, which costs more than a bitmap scan where other queues run many jobs (README,
 * cluster-wide limits). Chain heads read several states of a queue, which only a bitmap scan
 * serves well, so they keep them.
 */
function killingScans(flow: FlowLimits): SQL {
  const chained = (flow.chains?.length ?? 0) > 0 || flow.partition?.ordered === true;
  return chained ? sql`` : sql`, set_config('enable_bitmapscan', 'off', true)`;
}

/**
 * How many scans one limited claim makes at most. A scan sees a window of the queue; when the
 * partitions in that window fill up before the claim has all it wants (a tenant's backlog at the
 * head of the queue, say), the next scan skips them, so a long backlog cannot hide the
 * partitions behind it for more than a round.
 */
const maxRounds = 8;

/** How many available rows a claim looks at per slot it wants: enough to fill slots across partitions. */
const scanPerSlot = 4;
const minimumScan = 200;

/**
 * The ids to claim. Candidates come in the queue's order (priority, due time, id), skipping
 * partitions already full, chain links that are not their chain's head, and jobs heavier than a
 * limit (which could never fit: passed over, they hold nothing up); among them, partitions take
 * turns (each one's first job, then each one's second...), so that a partition with a long
 * backlog cannot keep the others waiting. Each limit then keeps the candidates whose running
 * total of weights, added to what the limit already counts, stays within it.
 */
function limitedSelection(
  schema: string,
  queue: string,
  demand: number,
  flow: FlowLimits,
  finished: readonly string[],
  after: QueuePosition | undefined,
): SQL {
  const s = sql.raw(schema);
  const partition = flow.partition;
  const rate = flow.rateLimit;
  const pkey = partition ? keyOf(partition.by, 'j') : sql.raw(`''`);
  const rkey = rate?.by ? keyOf(rate.by, 'j') : sql.raw(`''`);
  const weight = weightOf('j');
  // A chain runs one job at a time whatever its weight: its partition counts jobs.
  const pweight = (alias: string) => sql.raw(partition?.ordered ? '1' : `${alias}weight`);
  const order = sql.raw('turn, priority, scheduled_at, id');
  // A hashed subplan: `<> ALL` would compare every running row with every finished id.
  const ended =
    finished.length > 0 ? sql`AND j.id NOT IN (SELECT unnest(${list(finished, 'bigint')}))` : sql``;
  const ctes: SQL[] = [
    sql`running AS MATERIALIZED (
      SELECT ${pkey} AS pkey, ${weight} AS weight FROM ${s}.jobs j
      WHERE j.state = 'executing' AND j.queue = ${queue} ${ended})`,
  ];
  if (rate) {
    ctes.push(sql`started AS MATERIALIZED (
      SELECT rkey, weight FROM ${s}.flow_starts
      WHERE queue = ${queue} AND started_at > clock_timestamp() - ${rate.periodMs} * interval '1 millisecond')`);
  }
  const full = partition
    ? sql`AND ${pkey} NOT IN (SELECT pkey FROM running GROUP BY pkey HAVING sum(${pweight('')}) >= ${partition.limit})`
    : sql``;
  const cap = weightCap(flow);
  const fits = cap === undefined ? sql`` : sql`AND ${weight} <= ${cap}`;
  const past = after ? sql` AND ${pastPosition('j', after)}` : sql``;
  // Without partitions the candidates are locked as they are read (see below).
  const lockedAsRead = partition === undefined;
  const chains = flow.chains ?? [];
  let chained = sql``;
  if (chains.length > 0) {
    ctes.push(
      sql`worker_heads AS MATERIALIZED (${sql.join(
        chains.map((chain) => chainHeads(schema, queue, chain.by, chain.onFailure, chain.workers)),
        sql` UNION ALL `,
      )})`,
    );
    const names = chains.flatMap((chain) => chain.workers);
    chained = sql`AND (j.worker <> ALL(${list(names, 'text')}) OR j.id = ANY(ARRAY(SELECT id FROM worker_heads)))`;
  }
  // Without partitions, the candidates that can fit are the first ones: as many as there is room
  // for. With partitions, some candidates fall in full ones: a few times that many.
  const room =
    flow.global === undefined
      ? sql`${demand}::int`
      : sql`least(${demand}::int, greatest(0, ${flow.global}::int - (SELECT coalesce(sum(weight), 0) FROM running)::int))`;
  const scan = partition
    ? sql`greatest(${room} * ${scanPerSlot}::int, least(${minimumScan}::int, ${demand * scanPerSlot}::int))`
    : room;
  if (partition?.ordered) {
    ctes.push(sql`heads AS MATERIALIZED (${chainHeads(schema, queue, partition.by, partition.onFailure)})`);
    ctes.push(sql`candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, ${pkey} AS pkey, ${rkey} AS rkey, ${weight} AS weight
      FROM ${s}.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM heads)) AND j.state = 'available' ${full} ${fits} ${chained}
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT ${scan})`);
  } else {
    // Without partitions the candidates are as many as there is room for, and the claim takes
    // about all of them: they are locked as they are read, in the queue's order, as a plain claim
    // locks its jobs. Locking them afterwards through their ids let a planner with stale
    // statistics (a backlog grown since the last analyze) read the whole fetch index on every
    // claim instead of the primary key: 71,000 entries and 45 ms a claim (bench:pressure --global).
    const [due, locked] = lockedAsRead
      ? [sql` AND ${beforeDeadline('j')}`, sql` FOR UPDATE OF j SKIP LOCKED`]
      : [sql``, sql``];
    ctes.push(sql`candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, ${pkey} AS pkey, ${rkey} AS rkey, ${weight} AS weight
      FROM ${s}.jobs j
      WHERE j.state = 'available' AND j.queue = ${queue}${past}${due} ${full} ${fits} ${chained}
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT ${scan}${locked})`);
  }
  ctes.push(sql`ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c)`);
  let last = 'ranked';
  const keep = (name: string, taken: SQL, fits: SQL) => {
    ctes.push(sql`${sql.raw(name)} AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, ${taken} AS taken
        FROM ${sql.raw(last)} r
      ) r WHERE ${fits})`);
    last = name;
  };
  if (partition) {
    keep(
      'within_partition',
      sql`sum(${pweight('r.')}) OVER (PARTITION BY r.pkey ORDER BY r.turn)`,
      sql`r.taken + coalesce((SELECT sum(${pweight('u.')}) FROM running u WHERE u.pkey = r.pkey), 0) <= ${partition.limit}`,
    );
  }
  if (rate) {
    keep(
      'within_rate',
      sql`sum(r.weight) OVER (PARTITION BY r.rkey ORDER BY ${order})`,
      sql`r.taken + coalesce((SELECT sum(u.weight) FROM started u WHERE u.rkey = r.rkey), 0) <= ${rate.allowed}`,
    );
  }
  if (flow.global !== undefined) {
    keep(
      'within_global',
      sql`sum(r.weight) OVER (ORDER BY ${order})`,
      sql`r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= ${flow.global}`,
    );
  }
  // A cut is taken from the front: once a job does not fit, the ones after it do not either.
  if (lockedAsRead)
    return sql`
      WITH ${sql.join(ctes, sql`, `)}
      SELECT id FROM ${sql.raw(last)} ORDER BY ${order} LIMIT ${demand}`;
  // With partitions only the rows taken are locked; one that a cancel or a rescue holds or
  // changed meanwhile is left.
  return sql`
      WITH ${sql.join(ctes, sql`, `)}
      SELECT j.id FROM ${s}.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM ${sql.raw(last)} ORDER BY ${order} LIMIT ${demand})) AND j.state = 'available'
        AND ${beforeDeadline('j')}
      FOR UPDATE OF j SKIP LOCKED`;
}

/**
 * The first unfinished job of each chain in the queue (its lowest id), of the given workers or of
 * all: only a head that is available may start. A job waiting for its retry or its scheduled time
 * keeps its place at the head. With `hold`, a discarded or cancelled link stops its chain until it
 * is retried or deleted.
 */
function chainHeads(
  schema: string,
  queue: string,
  by: PartitionBy,
  onFailure: ChainFailure,
  workers?: WorkerChainLimit['workers'],
): SQL {
  const s = sql.raw(schema);
  const states =
    onFailure === 'hold'
      ? sql.raw(`('available', 'scheduled', 'retryable', 'executing', 'discarded', 'cancelled')`)
      : sql.raw(`('available', 'scheduled', 'retryable', 'executing')`);
  const of = (alias: string) =>
    workers ? sql`AND ${sql.raw(alias)}.worker = ANY(${list(workers, 'text')})` : sql``;
  const held =
    onFailure === 'hold'
      ? sql`AND NOT EXISTS (
          SELECT 1 FROM ${s}.job_history h
          WHERE h.queue = ${queue} AND h.state IN ('discarded', 'cancelled') AND h.id < f.id ${of('h')}
            AND ${keyOf(by, 'h')} = f.pkey)`
      : sql``;
  return sql`
      SELECT f.id FROM (
        SELECT DISTINCT ON (${keyOf(by, 'j')}) j.id, j.state, ${keyOf(by, 'j')} AS pkey
        FROM ${s}.jobs j WHERE j.queue = ${queue} AND j.state IN ${states} ${of('j')}
        ORDER BY ${keyOf(by, 'j')}, j.id
      ) f WHERE f.state = 'available' ${held}`;
}

/** A job's partition value, as text: its worker, or the listed args or meta values as a JSON array. */
export function keyOf(by: PartitionBy, alias: string): SQL {
  if (by === 'worker') return sql.raw(`${alias}.worker`);
  const [column, keys] = 'args' in by ? ['args', by.args] : ['meta', by.meta];
  const values = keys.map((key) => `${alias}.${column} -> ${quoted(key)}`).join(', ');
  return sql.raw(`jsonb_build_array(${values})::text`);
}

/** A job's weight: 1 unless its meta says otherwise. */
function weightOf(alias: string): SQL {
  return sql.raw(
    `coalesce(CASE WHEN jsonb_typeof(${alias}.meta -> '${weightKey}') = 'number' THEN (${alias}.meta ->> '${weightKey}')::numeric::int END, 1)`,
  );
}

/** A text literal; partition keys are checked names, quoted all the same. */
function quoted(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Records the starts of the claimed jobs for the rate window, in the claim's transaction, and
 * forgets starts that left every window.
 */
async function recordStarts(
  { database, schema }: EngineContext,
  tx: Executor,
  queue: string,
  flow: FlowLimits,
  ids: readonly string[],
): Promise<void> {
  const s = sql.raw(schema);
  const rate = flow.rateLimit!;
  const rkey = rate.by ? keyOf(rate.by, 'j') : sql.raw(`''`);
  await database.query(
    sql`
      WITH forgotten AS (
        DELETE FROM ${s}.flow_starts
        WHERE queue = ${queue} AND started_at <= clock_timestamp() - ${rate.periodMs} * interval '1 millisecond'
      )
      INSERT INTO ${s}.flow_starts (queue, rkey, weight, started_at)
      SELECT ${queue}, ${rkey}, ${weightOf('j')}, clock_timestamp()
      FROM ${s}.jobs j WHERE j.id = ANY(${list(ids, 'bigint')})`,
    tx,
  );
}

/**
 * Whether available jobs were left behind by a cluster limit (past `after`, for a claim that
 * started there), and, for a rate limit, in how many milliseconds the oldest start in the window
 * leaves it.
 */
async function heldBack(
  { database, schema }: EngineContext,
  queue: string,
  flow: FlowLimits,
  after: QueuePosition | undefined,
): Promise<{ held: boolean; retryInMs: number | null }> {
  const s = sql.raw(schema);
  const past = after ? sql` AND ${pastPosition('jobs', after)}` : sql``;
  const rate = flow.rateLimit;
  const retry = rate
    ? sql`(SELECT date_part('epoch', min(started_at) + ${rate.periodMs} * interval '1 millisecond' - clock_timestamp()) * 1000
        FROM ${s}.flow_starts WHERE queue = ${queue}
          AND started_at > clock_timestamp() - ${rate.periodMs} * interval '1 millisecond')`
    : sql`NULL::float8`;
  const [row] = await database.query<{ held: boolean; retryInMs: number | null }>(
    sql`
      SELECT EXISTS (SELECT 1 FROM ${s}.jobs WHERE state = 'available' AND queue = ${queue}${past}) AS held,
        ${retry} AS "retryInMs"`,
  );
  return { held: row?.held ?? false, retryInMs: row?.retryInMs ?? null };
}
