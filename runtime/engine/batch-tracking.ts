import { type SQL, sql } from 'drizzle-orm';
import { type BatchCallback, batchCallbacks } from '../../sdk/batch-context.js';
import { isFinalState, type JobState, jobStates, stateMask } from '../../sdk/states.js';
import type { Executor } from '../database/database.js';
import type { EngineContext } from './context.js';
import type { JobTransition, TransitionSubscriber } from './transitions.js';

/** The bit of a callback in `batches.callbacks`, `fired` and `last_fired`. */
export function callbackBit(callback: BatchCallback): number {
  return 1 << batchCallbacks.indexOf(callback);
}

/** How one write moves a batch's counters. */
interface Delta {
  total: number;
  attempted: number;
  completed: number;
  discarded: number;
  cancelled: number;
  retryable: number;
}

const counters = ['total', 'attempted', 'completed', 'discarded', 'cancelled', 'retryable'] as const;

/**
 * The callbacks whose condition holds once the counters have moved by `d`, as SQL bits (see
 * BatchCallbacks in sdk/batch-context.ts). Several can hold at once: the last job completing on
 * its first attempt makes `attempted` and `completed` true; the last job being discarded makes
 * `discarded` and `exhausted` true.
 */
function dueBits(): string {
  const after = (counter: (typeof counters)[number]) => `(b.${counter} + d.${counter})`;
  const finished = `(${after('completed')} + ${after('discarded')} + ${after('cancelled')})`;
  const total = after('total');
  const conditions: Record<BatchCallback, string> = {
    attempted: `${total} > 0 AND ${after('attempted')} >= ${total}`,
    completed: `${total} > 0 AND ${after('completed')} >= ${total}`,
    discarded: `${after('discarded')} > 0`,
    exhausted: `${total} > 0 AND ${finished} >= ${total} AND ${after('completed')} < ${total}`,
    cancelled: `${after('cancelled')} > 0`,
    retryable: `${after('retryable')} > 0`,
  };
  const bits = batchCallbacks.map(
    (callback) => `CASE WHEN ${conditions[callback]} THEN ${callbackBit(callback)} ELSE 0 END`,
  );
  return `((${bits.join(' | ')}) & b.callbacks)`;
}

/**
 * The statement that moves batches' counters by `deltas` (a SQL source of rows `id, total,
 * attempted, completed, discarded, cancelled, retryable`) and inserts the callbacks whose
 * condition became true, in one statement. Each batch row is locked, in id order, before it is
 * counted; under that lock the update both adds the callbacks that now hold to `fired` and
 * writes into `last_fired` those that were not in it, and the insert takes its callbacks from
 * `last_fired`: each callback is inserted once, by the update that made it hold. Each callback
 * job also holds the unique key `batch:<id>:<callback>`, so a second insert is impossible, not
 * just unlikely. The work per write does not grow with the batch's size.
 */
export function countBatchesStatement(schema: string, deltas: SQL): SQL {
  const s = sql.raw(schema);
  const due = sql.raw(dueBits());
  const callbackNames = sql.raw(
    batchCallbacks.map((callback) => `('${callback}', ${callbackBit(callback)})`).join(', '),
  );
  return sql`
    d AS MATERIALIZED (${deltas}),
    locked AS MATERIALIZED (
      SELECT b.id FROM ${s}.batches b JOIN d ON b.id = d.id ORDER BY b.id FOR UPDATE OF b
    ),
    counted AS (
      UPDATE ${s}.batches b SET
        ${sql.raw(counters.map((counter) => `${counter} = b.${counter} + d.${counter}`).join(', '))},
        last_fired = ${due} & ~b.fired,
        fired = b.fired | ${due}
      FROM d JOIN locked l ON l.id = d.id
      WHERE b.id = d.id
      RETURNING b.id, b.last_fired, b.callback
    )
    INSERT INTO ${s}.jobs (state, worker, queue, args, meta, tags, max_attempts, priority,
      batch_id, batch_callback, unique_key, unique_states)
    SELECT 'available', c.callback->>'worker', c.callback->>'queue', c.callback->'args', c.callback->'meta',
      ARRAY(SELECT jsonb_array_elements_text(c.callback->'tags')), (c.callback->>'maxAttempts')::int,
      (c.callback->>'priority')::smallint, c.id, f.name, 'batch:' || c.id || ':' || f.name, ${stateMask(jobStates)}
    FROM counted c JOIN (VALUES ${callbackNames}) AS f(name, bit) ON c.last_fired & f.bit <> 0
    ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL DO NOTHING`;
}

/**
 * The counter deltas of the rows an ack statement returned (`done`: batch_id, state and the
 * attempt the ack was for), for the batch-only fast path. An ack is for a job that was
 * executing: its first attempt ended unless it snoozed (which gives the attempt back).
 */
export const ackDeltas = sql`
  SELECT batch_id AS id, 0 AS total,
    count(*) FILTER (WHERE state <> 'scheduled' AND "previousAttempt" = 1)::int AS attempted,
    count(*) FILTER (WHERE state = 'completed')::int AS completed,
    count(*) FILTER (WHERE state = 'discarded')::int AS discarded,
    count(*) FILTER (WHERE state = 'cancelled')::int AS cancelled,
    count(*) FILTER (WHERE state = 'retryable')::int AS retryable
  FROM done GROUP BY batch_id`;

/**
 * Whether a job in this state and attempt counts as attempted for its batch: it finished
 * (whether it ever ran or not), or its first attempt has ended.
 */
function hasBeenAttempted(state: JobState, attempt: number): boolean {
  return isFinalState(state) || attempt >= 2 || (attempt === 1 && state !== 'executing');
}

function countTransition(delta: Delta, transition: JobTransition): void {
  const { state, previous } = transition;
  const before = hasBeenAttempted(previous, transition.previousAttempt) ? 1 : 0;
  if (state === 'deleted') {
    delta.total -= 1;
    delta.attempted -= before;
    return;
  }
  delta.attempted += (hasBeenAttempted(state, transition.attempt) ? 1 : 0) - before;
  for (const counted of ['completed', 'discarded', 'cancelled'] as const) {
    delta[counted] += (state === counted ? 1 : 0) - (previous === counted ? 1 : 0);
  }
  if (state === 'retryable' && previous !== 'retryable') delta.retryable += 1;
}

/**
 * The batch side of the engine's transitions, for writes that report them one by one (commands,
 * the lifeline, cascades, workflow steps): their counter deltas go through the same statement
 * as a batch-only ack's. A write of batch-only acks counts in its own statement instead
 * (runtime/engine/ack.ts).
 */
export function batchSubscriber(ctx: EngineContext): TransitionSubscriber {
  return async (tx, transitions) => {
    const deltas = new Map<string, Delta>();
    for (const transition of transitions) {
      if (transition.batchId === null || transition.batchCallback !== null) continue;
      let delta = deltas.get(transition.batchId);
      if (!delta) {
        delta = { total: 0, attempted: 0, completed: 0, discarded: 0, cancelled: 0, retryable: 0 };
        deltas.set(transition.batchId, delta);
      }
      countTransition(delta, transition);
    }
    if (deltas.size > 0) await countBatches(ctx, tx, deltas);
    return [];
  };
}

async function countBatches(ctx: EngineContext, tx: Executor, deltas: Map<string, Delta>): Promise<void> {
  const ids = [...deltas.keys()];
  const column = (key: keyof Delta) => sql`${sql.param(ids.map((id) => deltas.get(id)![key]))}::int[]`;
  const source = sql`
    SELECT * FROM unnest(${sql.param(ids)}::uuid[], ${sql.join(counters.map(column), sql`, `)})
      AS t(id, ${sql.raw(counters.join(', '))})`;
  await ctx.database.query(sql`WITH ${countBatchesStatement(ctx.schema, source)}`, tx);
}
