import { type SQL, sql } from 'drizzle-orm';

/**
 * A job's place in its queue's claim order: priority, due time to the microsecond, id. A claim
 * may start past one (see runtime/node/claim-floor.ts): while a transaction pins the xmin
 * horizon, the index entries of jobs already claimed can be neither removed nor marked dead, and
 * a claim from the head of the queue visits every one of them.
 */
export interface QueuePosition {
  readonly priority: number;
  /** Microseconds since the epoch: exact, where a Date keeps milliseconds. */
  readonly dueUs: number;
  readonly id: string;
}

/**
 * The position of a claimed row from its epoch milliseconds as the claim sends them (float8).
 * A due time near today's has 53 bits for about 1.8e15 microseconds, and each float step errs by
 * under a quarter of one, so rounding recovers the stored value exactly.
 */
export function positionOf(priority: number, dueMs: number, id: string): QueuePosition {
  return { priority, dueUs: Math.round(dueMs * 1000), id };
}

/** Whether `a` comes after `b` in the claim order. */
export function comesAfter(a: QueuePosition, b: QueuePosition): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.dueUs !== b.dueUs) return a.dueUs > b.dueUs;
  return a.id.length !== b.id.length ? a.id.length > b.id.length : a.id > b.id;
}

/**
 * The claim's condition for rows past `position`, as a row comparison the fetch index serves as
 * a start key. The due time is rebuilt from whole microseconds, so it matches the stored one exactly.
 */
export function pastPosition(alias: string, position: QueuePosition): SQL {
  const a = sql.raw(alias);
  return sql`(${a}.priority, ${a}.scheduled_at, ${a}.id) > (${position.priority}::smallint,
    timestamptz 'epoch' + ${String(position.dueUs)}::bigint * interval '1 microsecond', ${position.id}::bigint)`;
}
