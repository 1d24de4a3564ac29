import { type SQL, sql } from 'drizzle-orm';
import type { JobError } from '../../sdk/job.js';
import { stateBit } from '../../sdk/states.js';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import type { EngineExtension } from './extension.js';
import { insertHistory } from './history.js';
import type { JobTracking } from './records.js';
import { reportTransitions } from './report.js';
import { transactionDeadline } from './transaction-deadline.js';
import { type JobTransition, transitionColumns } from './transitions.js';

/** The job an ack is for: its id, the attempt that ended, and what the engine routes the ack by. */
export interface AckedJob extends JobTracking {
  readonly id: string;
  /** The attempt this ack is for: a late ack for an older attempt changes nothing. */
  readonly attempt: number;
  /** The states in which the job's unique key guards, if it has one: such a job stays in `jobs`. */
  readonly uniqueStates?: number | null;
}

/** How an attempt ended, as the engine writes it to the job row. */
export interface Ack {
  readonly job: AckedJob;
  readonly state: 'completed' | 'retryable' | 'discarded' | 'cancelled' | 'scheduled';
  /** Milliseconds from now until the job is due again (retryable and snoozed jobs). */
  readonly delayMs?: number;
  readonly error?: JobError;
  /** A snooze gives the attempt back. */
  readonly refund?: boolean;
  /** A completed `@Recorded` job's value, as stored (see runtime/workers/recorded-value.ts). */
  readonly recorded?: Buffer;
}

/**
 * How long a write of acks may take: `signal` cancels its plain statements when the caller gives
 * up on them, and the server ends its transaction past `ms`.
 */
export interface AckDeadline {
  readonly signal: AbortSignal;
  readonly ms: number;
}

/** Rows per statement for acks that carry per-row values (errors, delays, recorded results). */
const rowsPerStatement = 500;

/**
 * Writes attempt outcomes, routed by who must hear of them. Untracked jobs take one statement
 * per group of outcomes, without a transaction. Jobs that one extension alone tracks and that it
 * can count in the ack's own statement (a batch's jobs) take one statement too. The outcomes of
 * jobs that need more (workflow steps, which may also be in a batch) are written in one
 * transaction with what they cause (released or cancelled steps, and through those, batch
 * counts), which the extensions write in it.
 */
export async function writeAcks(
  ctx: EngineContext,
  acks: readonly Ack[],
  deadline?: AckDeadline,
): Promise<void> {
  const options = deadline ? { signal: deadline.signal } : {};
  const plain: Ack[] = [];
  const counted = new Map<EngineExtension, Ack[]>();
  const reported: Ack[] = [];
  for (const ack of acks) {
    const route = routeOf(ctx, ack.job);
    if (route === undefined) plain.push(ack);
    else if (route === 'report') reported.push(ack);
    else {
      const group = counted.get(route);
      if (group) group.push(ack);
      else counted.set(route, [ack]);
    }
  }
  for (const statement of ackStatements(ctx.schema, plain, plainEnd, !ctx.keepHistory))
    await ctx.database.query(statement, undefined, options);
  for (const [extension, group] of counted) {
    for (const statement of ackStatements(ctx.schema, group, countedEnd(extension)))
      await ctx.database.query(statement, undefined, options);
  }
  if (reported.length === 0) return;
  await ctx.database.transaction(async (tx) => {
    if (deadline) await ctx.database.query(transactionDeadline(deadline.ms), tx);
    const transitions: JobTransition[] = [];
    for (const statement of ackStatements(ctx.schema, reported, reportedEnd)) {
      for (const row of await ctx.database.query<JobTransition>(statement, tx)) transitions.push(row);
    }
    await reportTransitions(ctx, tx, transitions);
  });
}

/**
 * Who must hear of an ack: nobody (undefined); one extension, in the ack's statement; or the
 * extensions, in a transaction around it ('report').
 */
function routeOf(ctx: EngineContext, job: AckedJob): EngineExtension | 'report' | undefined {
  let found: EngineExtension | undefined;
  for (const extension of ctx.extensions) {
    if (!extension.tracks(job)) continue;
    if (found || !extension.countInAck) return 'report';
    found = extension;
  }
  return found;
}

/**
 * One write of acks: CTEs (or none) and the statement after them, which takes a RETURNING clause.
 * Kept apart so that an extension's counting can follow the write in the same statement (a
 * data-modifying CTE must be at the top level).
 */
interface AckWrite {
  readonly ctes: SQL | undefined;
  statement(returning: SQL): SQL;
}

/** How an ack statement ends: without RETURNING, returning its transitions, or counted by an extension. */
type AckEnd = (write: AckWrite, previousAttempt: string) => SQL;

const withCtes = (write: AckWrite, rest: SQL) => (write.ctes ? sql`WITH ${write.ctes} ${rest}` : rest);

const plainEnd: AckEnd = (write) => withCtes(write, write.statement(sql``));

const reportedEnd: AckEnd = (write, previousAttempt) =>
  withCtes(write, write.statement(sql`RETURNING ${transitionColumns('j', `'executing'`, previousAttempt)}`));

function countedEnd(extension: EngineExtension): AckEnd {
  return (write, previousAttempt) => {
    const done = write.statement(sql`RETURNING ${transitionColumns('j', `'executing'`, previousAttempt)}`);
    const ctes = write.ctes ? sql`${write.ctes}, ` : sql``;
    return sql`WITH ${ctes}done AS (${done}), ${extension.countInAck!(sql`done`)}`;
  };
}

/** The bit of `completed` in `unique_states`: a job whose key guards when completed stays in `jobs`. */
const completedBit = stateBit('completed');

/**
 * The statements that write a list of acks. With `deleteCompleted` (untracked jobs, `history:
 * false`), completions without a recorded value are deleted instead of kept in the history.
 */
function ackStatements(schema: string, acks: readonly Ack[], end: AckEnd, deleteCompleted = false): SQL[] {
  const completedByAttempt = new Map<number, string[]>();
  const recorded: Ack[] = [];
  const others: Ack[] = [];
  for (const ack of acks) {
    const guarded = ack.state === 'completed' && ((ack.job.uniqueStates ?? 0) & completedBit) !== 0;
    if (guarded || ack.state !== 'completed') others.push(ack);
    else if (ack.recorded !== undefined) recorded.push(ack);
    else {
      const ids = completedByAttempt.get(ack.job.attempt);
      if (ids) ids.push(ack.job.id);
      else completedByAttempt.set(ack.job.attempt, [ack.job.id]);
    }
  }
  const statements: SQL[] = [];
  for (const [attempt, ids] of completedByAttempt) {
    statements.push(end(complete(schema, ids, attempt, !deleteCompleted), 'j.attempt'));
  }
  for (const chunk of chunks(recorded)) statements.push(end(completeRecorded(schema, chunk), 'j.attempt'));
  for (const chunk of chunks(others)) statements.push(end(finish(schema, chunk), 'a.attempt'));
  return statements;
}

/**
 * The hot path. A completed job leaves `jobs` for the history in the ack's own statement: a
 * DELETE, which writes no new row version and no index entry in `jobs`, and an INSERT into the
 * day's partition. Completions are grouped by attempt so that the delete needs no join: ids go in
 * one `= ANY(...)` that the primary key serves, and the attempt guard is a single value. With
 * `history: false`, untracked jobs are only deleted.
 */
function complete(schema: string, ids: readonly string[], attempt: number, keep: boolean): AckWrite {
  const s = sql.raw(schema);
  const where = sql`id = ANY(${list(ids, 'bigint')}) AND attempt = ${attempt} AND state = 'executing'`;
  if (!keep) {
    return {
      ctes: undefined,
      statement: (returning) => sql`DELETE FROM ${s}.jobs j WHERE ${where} ${returning}`,
    };
  }
  return {
    ctes: sql`gone AS (DELETE FROM ${s}.jobs j WHERE ${where} RETURNING j.*)`,
    statement: (returning) =>
      insertHistory(schema, 'gone', `'completed'`, { completed_at: 'now()' }, returning),
  };
}

/**
 * Completes jobs and stores their recorded values, moving them to the history in one statement.
 * Kept apart from the plain completion, which carries only ids and attempts, so jobs that record
 * nothing pay nothing.
 */
function completeRecorded(schema: string, acks: readonly Ack[]): AckWrite {
  const s = sql.raw(schema);
  const ids = list(
    acks.map((ack) => ack.job.id),
    'bigint',
  );
  return {
    ctes: sql`gone AS (
      DELETE FROM ${s}.jobs j
      USING unnest(${ids}, ${list(
        acks.map((ack) => ack.job.attempt),
        'int',
      )}, ${list(
        acks.map((ack) => ack.recorded!.toString('base64')),
        'text',
      )}) AS a(id, attempt, recorded)
      WHERE j.id = ANY(${ids}) AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'
      RETURNING j.*, a.recorded AS recorded_value)`,
    statement: (returning) =>
      insertHistory(
        schema,
        'gone',
        `'completed'`,
        { completed_at: 'now()', recorded: "decode(d.recorded_value, 'base64')" },
        returning,
      ),
  };
}

/**
 * Every other outcome (a retry, a snooze, a discard, a cancel, and a completion whose unique key
 * still guards) updates the row; one that reaches a final state is moved to the history by the
 * table's trigger (migrations/v004.ts), in the same statement.
 */
function finish(schema: string, acks: readonly Ack[]): AckWrite {
  const ids = list(
    acks.map((ack) => ack.job.id),
    'bigint',
  );
  return {
    ctes: undefined,
    statement: (returning) => sql`
    UPDATE ${sql.raw(schema)}.jobs j SET
      state = a.state,
      attempt = j.attempt - a.refund,
      scheduled_at = CASE WHEN a.delay_ms IS NULL THEN j.scheduled_at ELSE now() + a.delay_ms * interval '1 millisecond' END,
      completed_at = CASE WHEN a.state = 'completed' THEN now() ELSE j.completed_at END,
      discarded_at = CASE WHEN a.state = 'discarded' THEN now() ELSE j.discarded_at END,
      cancelled_at = CASE WHEN a.state = 'cancelled' THEN now() ELSE j.cancelled_at END,
      errors = CASE WHEN a.error IS NULL THEN j.errors ELSE array_append(j.errors, a.error::jsonb) END,
      recorded = coalesce(decode(a.recorded, 'base64'), j.recorded)
    FROM unnest(
      ${ids}, ${list(
        acks.map((ack) => ack.job.attempt),
        'int',
      )}, ${list(
        acks.map((ack) => ack.state),
        'text',
      )},
      ${list(
        acks.map((ack) => ack.delayMs ?? null),
        'bigint',
      )}, ${list(
        acks.map((ack) => (ack.error ? JSON.stringify(ack.error) : null)),
        'text',
      )},
      ${list(
        acks.map((ack) => (ack.refund ? 1 : 0)),
        'int',
      )}, ${list(
        acks.map((ack) => ack.recorded?.toString('base64') ?? null),
        'text',
      )}
    ) AS a(id, attempt, state, delay_ms, error, refund, recorded)
    WHERE j.id = ANY(${ids})
      AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'
    ${returning}`,
  };
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
