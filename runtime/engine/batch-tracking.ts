import { sql } from 'drizzle-orm';
import { type BatchCallback, batchCallbacks } from '../../sdk/batch-context.js';
import { isFinalState, type JobState, jobStates, stateMask } from '../../sdk/states.js';
import type { Executor } from '../database.js';
import type { EngineContext } from './context.js';
import type { JobTransition, TransitionSubscriber } from './transitions.js';

/** The bit of a callback in `batches.callbacks` and `batches.fired`. */
export function callbackBit(callback: BatchCallback): number {
  return 1 << batchCallbacks.indexOf(callback);
}

/** A batch's counters, as stored. */
export interface BatchCounters {
  readonly total: number;
  readonly attempted: number;
  readonly completed: number;
  readonly discarded: number;
  readonly cancelled: number;
  readonly retryable: number;
}

type Delta = { -readonly [Key in keyof BatchCounters]: number };

/**
 * The callbacks whose condition holds for these counts (see BatchCallbacks in
 * sdk/batch-context.ts). Several can hold at once: the last job completing on its first attempt
 * makes both `attempted` and `completed` true; the last job being discarded makes `discarded`
 * and `exhausted` true.
 */
export function dueCallbacks(counts: BatchCounters): number {
  const finished = counts.completed + counts.discarded + counts.cancelled;
  let bits = 0;
  if (counts.total > 0 && counts.attempted >= counts.total) bits |= callbackBit('attempted');
  if (counts.total > 0 && counts.completed >= counts.total) bits |= callbackBit('completed');
  if (counts.discarded > 0) bits |= callbackBit('discarded');
  if (counts.total > 0 && finished >= counts.total && counts.completed < counts.total)
    bits |= callbackBit('exhausted');
  if (counts.cancelled > 0) bits |= callbackBit('cancelled');
  if (counts.retryable > 0) bits |= callbackBit('retryable');
  return bits;
}

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
 * The batch side of the engine's transitions. Each transition of a batch's job moves the
 * batch's counters, under the batch row's lock, in the transaction that made it; a callback
 * whose condition became true is inserted in that same transaction, once: the row's `fired`
 * bits, read and set under that lock, say which were inserted, and each callback job also holds
 * the unique key `batch:<id>:<callback>`, so a second insert is impossible, not just unlikely.
 * The work per transition does not grow with the batch's size.
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
    if (deltas.size > 0) await applyDeltas(ctx, tx, deltas);
    return [];
  };
}

async function applyDeltas(ctx: EngineContext, tx: Executor, deltas: Map<string, Delta>): Promise<void> {
  const s = sql.raw(ctx.schema);
  const ids = [...deltas.keys()].sort();
  const column = (key: keyof Delta) => sql.param(ids.map((id) => deltas.get(id)![key]));
  const rows = await ctx.database.query<BatchCounters & { id: string; callbacks: number; fired: number }>(
    sql`
      WITH locked AS MATERIALIZED (
        SELECT id FROM ${s}.batches WHERE id = ANY(${sql.param(ids)}::uuid[]) ORDER BY id FOR UPDATE
      )
      UPDATE ${s}.batches b SET
        total = b.total + d.total, attempted = b.attempted + d.attempted, completed = b.completed + d.completed,
        discarded = b.discarded + d.discarded, cancelled = b.cancelled + d.cancelled, retryable = b.retryable + d.retryable
      FROM unnest(${sql.param(ids)}::uuid[], ${column('total')}::int[], ${column('attempted')}::int[],
        ${column('completed')}::int[], ${column('discarded')}::int[], ${column('cancelled')}::int[], ${column('retryable')}::int[])
        AS d(id, total, attempted, completed, discarded, cancelled, retryable)
      WHERE b.id = ANY(ARRAY(SELECT id FROM locked)) AND b.id = d.id
      RETURNING b.id, b.total, b.attempted, b.completed, b.discarded, b.cancelled, b.retryable, b.callbacks, b.fired`,
    tx,
  );
  const fire: { id: string; callback: BatchCallback }[] = [];
  for (const row of rows) {
    const due = dueCallbacks(row) & row.callbacks & ~row.fired;
    for (const callback of batchCallbacks) {
      if (due & callbackBit(callback)) fire.push({ id: String(row.id), callback });
    }
  }
  if (fire.length > 0) await insertCallbacks(ctx, tx, fire);
}

/** Marks callbacks fired and inserts their jobs, from the callback stored on the batch row. */
async function insertCallbacks(
  ctx: EngineContext,
  tx: Executor,
  fire: readonly { id: string; callback: BatchCallback }[],
): Promise<void> {
  const s = sql.raw(ctx.schema);
  const ids = sql.param(fire.map((entry) => entry.id));
  const callbacks = sql.param(fire.map((entry) => entry.callback));
  const bits = sql.param(fire.map((entry) => callbackBit(entry.callback)));
  await ctx.database.query(
    sql`
      UPDATE ${s}.batches b SET fired = b.fired | f.bits
      FROM (SELECT id, bit_or(bit)::smallint AS bits FROM unnest(${ids}::uuid[], ${bits}::smallint[]) AS t(id, bit) GROUP BY id) f
      WHERE b.id = f.id`,
    tx,
  );
  await ctx.database.query(
    sql`
      INSERT INTO ${s}.jobs (state, worker, queue, args, meta, tags, max_attempts, priority,
        batch_id, batch_callback, unique_key, unique_states)
      SELECT 'available', b.callback->>'worker', b.callback->>'queue', b.callback->'args', b.callback->'meta',
        ARRAY(SELECT jsonb_array_elements_text(b.callback->'tags')), (b.callback->>'maxAttempts')::int,
        (b.callback->>'priority')::smallint, b.id, t.callback, 'batch:' || b.id || ':' || t.callback,
        ${stateMask(jobStates)}
      FROM unnest(${ids}::uuid[], ${callbacks}::text[]) AS t(id, callback)
      JOIN ${s}.batches b ON b.id = t.id
      ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL DO NOTHING`,
    tx,
  );
}
