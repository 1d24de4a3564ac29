import { type SQL, sql } from 'drizzle-orm';
import type { JobError } from '../../sdk/job.js';
import { ackDeltas, countBatchesStatement } from './batch-tracking.js';
import type { EngineContext } from './context.js';
import { reportTransitions, toTransition, transitionColumns } from './transitions.js';

/** How an attempt ended, as the engine writes it to the job row. */
export interface Ack {
  readonly id: string;
  /** The attempt this ack is for: a late ack for an older attempt changes nothing. */
  readonly attempt: number;
  readonly state: 'completed' | 'retryable' | 'discarded' | 'cancelled' | 'scheduled';
  /** Milliseconds from now until the job is due again (retryable and snoozed jobs). */
  readonly delayMs?: number;
  readonly error?: JobError;
  /** A snooze gives the attempt back. */
  readonly refund?: boolean;
  /** A completed `@Recorded` job's value, as stored (see runtime/recorded-value.ts). */
  readonly recorded?: Buffer;
  /**
   * Who needs to hear of this outcome: nobody (a plain job); the job's batch only; or the
   * subscribers, for a workflow step (which may also be in a batch).
   */
  readonly tracked: false | 'batch' | 'workflow';
}

/** Rows per statement for acks that carry per-row values (errors, delays, recorded results). */
const rowsPerStatement = 500;

/**
 * Writes attempt outcomes. Plain jobs take one statement per group of outcomes, without a
 * transaction. The jobs of a batch do too: their statement also counts them into their batch
 * and inserts the callbacks that became due (see countBatchesStatement). The outcomes of
 * workflow steps are written in one transaction with what they cause (released or cancelled
 * steps, and through those, batch counts), which the subscribers write in it.
 */
export async function writeAcks(ctx: EngineContext, acks: readonly Ack[]): Promise<void> {
  const plain: Ack[] = [];
  const batched: Ack[] = [];
  const steps: Ack[] = [];
  for (const ack of acks)
    (ack.tracked === 'workflow' ? steps : ack.tracked === 'batch' ? batched : plain).push(ack);
  for (const statement of ackStatements(ctx.schema, plain, 'nothing')) await ctx.database.query(statement);
  for (const statement of ackStatements(ctx.schema, batched, 'batch counts'))
    await ctx.database.query(statement);
  if (steps.length === 0) return;
  await ctx.database.transaction(async (tx) => {
    const transitions = [];
    for (const statement of ackStatements(ctx.schema, steps, 'transitions')) {
      for (const row of await ctx.database.query(statement, tx)) transitions.push(toTransition(row));
    }
    await reportTransitions(tx, ctx.subscribers, transitions);
  });
}

/** What an ack statement returns: nothing, the transitions it made, or (in itself) batch counts. */
type Returning = 'nothing' | 'transitions' | 'batch counts';

/** The statements that write a list of acks. */
function ackStatements(schema: string, acks: readonly Ack[], returning: Returning): SQL[] {
  const completedByAttempt = new Map<number, string[]>();
  const recorded: Ack[] = [];
  const others: Ack[] = [];
  for (const ack of acks) {
    if (ack.recorded !== undefined) recorded.push(ack);
    else if (ack.state !== 'completed') others.push(ack);
    else {
      const ids = completedByAttempt.get(ack.attempt);
      if (ids) ids.push(ack.id);
      else completedByAttempt.set(ack.attempt, [ack.id]);
    }
  }
  const statements: SQL[] = [];
  for (const [attempt, ids] of completedByAttempt) {
    statements.push(
      withReturning(schema, returning, 'j.attempt', (end) => complete(schema, ids, attempt, end)),
    );
  }
  for (const chunk of chunks(recorded)) {
    statements.push(
      withReturning(schema, returning, 'a.attempt', (end) => completeRecorded(schema, chunk, end)),
    );
  }
  for (const chunk of chunks(others)) {
    statements.push(withReturning(schema, returning, 'a.attempt', (end) => finish(schema, chunk, end)));
  }
  return statements;
}

/** An ack statement `write(end)` with what it returns, or wrapped to count its batch jobs. */
function withReturning(
  schema: string,
  returning: Returning,
  previousAttempt: string,
  write: (end: SQL) => SQL,
): SQL {
  if (returning === 'nothing') return write(sql``);
  if (returning === 'transitions') {
    return write(sql`RETURNING ${transitionColumns('j', `'executing'`, previousAttempt)}`);
  }
  const done = write(sql`RETURNING j.batch_id, j.state, ${sql.raw(previousAttempt)} AS "previousAttempt"`);
  return sql`WITH done AS (${done}), ${countBatchesStatement(schema, ackDeltas)}`;
}

/**
 * The hot path. Completions are grouped by attempt so the statement needs no join: ids go in
 * one `= ANY(...)` that the primary key serves, and the attempt guard is a single value.
 */
function complete(schema: string, ids: readonly string[], attempt: number, end: SQL): SQL {
  return sql`
    UPDATE ${sql.raw(schema)}.jobs j SET state = 'completed', completed_at = now()
    WHERE id = ANY(${sql.param(ids)}::bigint[]) AND attempt = ${attempt} AND state = 'executing'
    ${end}`;
}

/**
 * Completes jobs and stores their recorded values in one statement. Kept apart from the plain
 * completion, which carries only ids and attempts, so jobs that record nothing pay nothing.
 */
function completeRecorded(schema: string, acks: readonly Ack[], end: SQL): SQL {
  return sql`
    UPDATE ${sql.raw(schema)}.jobs j SET state = 'completed', completed_at = now(), recorded = decode(a.recorded, 'base64')
    FROM unnest(
      ${sql.param(acks.map((ack) => ack.id))}::bigint[], ${sql.param(acks.map((ack) => ack.attempt))}::int[],
      ${sql.param(acks.map((ack) => ack.recorded!.toString('base64')))}::text[]
    ) AS a(id, attempt, recorded)
    WHERE j.id = ANY(${sql.param(acks.map((ack) => ack.id))}::bigint[])
        AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'
    ${end}`;
}

function finish(schema: string, acks: readonly Ack[], end: SQL): SQL {
  const column = <T>(pick: (ack: Ack) => T) => sql.param(acks.map(pick));
  return sql`
    UPDATE ${sql.raw(schema)}.jobs j SET
      state = a.state,
      attempt = j.attempt - a.refund,
      scheduled_at = CASE WHEN a.delay_ms IS NULL THEN j.scheduled_at ELSE now() + a.delay_ms * interval '1 millisecond' END,
      discarded_at = CASE WHEN a.state = 'discarded' THEN now() ELSE j.discarded_at END,
      cancelled_at = CASE WHEN a.state = 'cancelled' THEN now() ELSE j.cancelled_at END,
      errors = CASE WHEN a.error IS NULL THEN j.errors ELSE array_append(j.errors, a.error::jsonb) END
    FROM unnest(
      ${column((ack) => ack.id)}::bigint[], ${column((ack) => ack.attempt)}::int[], ${column((ack) => ack.state)}::text[],
      ${column((ack) => ack.delayMs ?? null)}::bigint[], ${column((ack) => (ack.error ? JSON.stringify(ack.error) : null))}::text[],
      ${column((ack) => (ack.refund ? 1 : 0))}::int[]
    ) AS a(id, attempt, state, delay_ms, error, refund)
    WHERE j.id = ANY(${column((ack) => ack.id)}::bigint[])
      AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'
    ${end}`;
}

/**
 * Splits per-row acks into statements of a bounded size. The planner cannot see how long an
 * unnested array parameter is and may join it in a nested loop; a bounded size keeps that cheap.
 */
function chunks(acks: readonly Ack[]): Ack[][] {
  const result: Ack[][] = [];
  for (let index = 0; index < acks.length; index += rowsPerStatement) {
    result.push(acks.slice(index, index + rowsPerStatement));
  }
  return result;
}
