import { type SQL, sql } from 'drizzle-orm';
import { type BatchCallback, batchCallbacks } from '../../sdk/batch-context.js';
import { jobStates, stateMask } from '../../sdk/states.js';
import type { Executor } from '../database/executor.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { jobInsert } from '../engine/insert-row.js';
import { finalStatesText } from '../engine/state-sql.js';
import type { JobTransition } from '../engine/transitions.js';

/** The bit of a callback in `batches.callbacks`, `fired` and `last_fired`. */
export function callbackBit(callback: BatchCallback): number {
  return 1 << batchCallbacks.indexOf(callback);
}

const counters = ['total', 'attempted', 'completed', 'discarded', 'cancelled', 'retryable'] as const;

/**
 * SQL: whether a job in `state` at `attempt` counts as attempted for its batch: it finished
 * (whether it ever ran or not), or its first attempt has ended. A deleted job counts no more.
 */
function attempted(state: string, attempt: string): string {
  return (
    `(CASE WHEN ${state} <> 'deleted' AND (${state} IN ${finalStatesText} ` +
    `OR ${attempt} >= 2 OR (${attempt} = 1 AND ${state} <> 'executing')) THEN 1 ELSE 0 END)`
  );
}

/**
 * The one counting rule of batches: how transitions move each batch's counters. `source` holds
 * rows of JobTransition's columns (`state`, `previous`, `attempt`, `"previousAttempt"`,
 * `"batchId"`, `"batchCallback"`); a batch's callback jobs are not counted in it.
 */
function deltasOf(source: SQL): SQL {
  const moved = (state: string) =>
    `(CASE WHEN state = '${state}' THEN 1 ELSE 0 END) - (CASE WHEN previous = '${state}' THEN 1 ELSE 0 END)`;
  return sql`
    SELECT "batchId" AS id,
      sum(CASE WHEN state = 'deleted' THEN -1 ELSE 0 END)::int AS total,
      sum(${sql.raw(attempted('state', 'attempt'))} - ${sql.raw(attempted('previous', '"previousAttempt"'))})::int AS attempted,
      sum(${sql.raw(moved('completed'))})::int AS completed,
      sum(${sql.raw(moved('discarded'))})::int AS discarded,
      sum(${sql.raw(moved('cancelled'))})::int AS cancelled,
      count(*) FILTER (WHERE state = 'retryable' AND previous <> 'retryable')::int AS retryable
    FROM ${source} AS moves
    WHERE "batchId" IS NOT NULL AND "batchCallback" IS NULL
    GROUP BY "batchId"`;
}

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
 * The CTEs and final statement that count the transitions in `source` into their batches and
 * insert the callbacks whose condition became true, in one statement. Each batch row is locked,
 * in id order, before it is counted; under that lock the update both adds the callbacks that now
 * hold to `fired` and writes into `last_fired` those that were not in it, and the insert takes
 * its callbacks from `last_fired`: each callback is inserted once, by the update that made it
 * hold. Each callback job also holds the unique key `batch:<id>:<callback>`, so a second insert
 * is impossible, not just unlikely. The work per write does not grow with the batch's size.
 */
export function countBatchesStatement(schema: string, source: SQL): SQL {
  const s = sql.raw(schema);
  const due = sql.raw(dueBits());
  const callbackNames = sql.raw(
    batchCallbacks.map((callback) => `('${callback}', ${callbackBit(callback)})`).join(', '),
  );
  const callbacks = sql`(
    SELECT c.callback->>'worker' AS worker, c.callback->>'queue' AS queue, (c.callback->'args')::text AS args,
      (c.callback->'meta')::text AS meta, ARRAY(SELECT jsonb_array_elements_text(c.callback->'tags')) AS tags,
      (c.callback->>'maxAttempts')::int AS max_attempts, (c.callback->>'priority')::smallint AS priority,
      NULL::text AS scheduled_at, 'batch:' || c.id || ':' || f.name AS unique_key,
      ${stateMask(jobStates)}::smallint AS unique_states, NULL::uuid AS workflow_id, NULL::text AS workflow_step,
      NULL::int AS deps_remaining, c.id AS batch_id, f.name AS batch_callback
    FROM counted c JOIN (VALUES ${callbackNames}) AS f(name, bit) ON c.last_fired & f.bit <> 0
  ) t`;
  return sql`
    d AS MATERIALIZED (${deltasOf(source)}),
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
    ${jobInsert(
      schema,
      { unique: true, tracked: true, callback: true },
      callbacks,
      sql`ON CONFLICT (unique_active) WHERE unique_active IS NOT NULL DO NOTHING`,
    )}`;
}

/**
 * Counts transitions reported one by one (commands, the lifeline, cascades, workflow steps) into
 * their batches: they go to the database as lists and through the same rule as an ack's.
 */
export async function countTransitions(
  ctx: EngineContext,
  tx: Executor,
  transitions: readonly JobTransition[],
): Promise<void> {
  const pick = <T>(value: (transition: JobTransition) => T) =>
    transitions.map(value) as (string | number | null)[];
  const source = sql`(
    SELECT * FROM unnest(${list(
      pick((t) => t.batchId),
      'uuid',
    )}, ${list(
      pick((t) => t.batchCallback),
      'text',
    )}, ${list(
      pick((t) => t.state),
      'text',
    )}, ${list(
      pick((t) => t.previous),
      'text',
    )}, ${list(
      pick((t) => t.attempt),
      'int',
    )}, ${list(
      pick((t) => t.previousAttempt),
      'int',
    )}) AS t("batchId", "batchCallback", state, previous, attempt, "previousAttempt"))`;
  await ctx.database.query(sql`WITH ${countBatchesStatement(ctx.schema, source)}`, tx);
}
