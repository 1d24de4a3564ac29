import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import type { KobanEventEmitter } from './events.js';
import type { Ack } from './outcome.js';
import { completeRecordedStatement } from './recorded.js';

/** Rows per statement for acks that carry per-row values (errors, delays, recorded results). */
const rowsPerStatement = 500;

interface Batch {
  readonly acks: Ack[];
  readonly written: Promise<void>;
  readonly resolve: () => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  const written = new Promise<void>((done) => {
    resolve = done;
  });
  return { acks: [], written, resolve };
}

/**
 * Writes attempt outcomes back in batches: everything that finished while the previous write was
 * in flight goes out together. A failed write is kept and tried again, so an outcome is never
 * dropped while the node lives. `add` resolves once the ack is written, which is when a producer
 * frees the job's slot: a slow database slows fetching instead of piling up executing jobs.
 */
export class Acker {
  private pending = newBatch();
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly schema: string,
    private readonly events: KobanEventEmitter,
  ) {}

  add(ack: Ack): Promise<void> {
    // After stop() the connection is gone; the job stays executing and the lifeline rescues it.
    if (this.closed) return Promise.resolve();
    this.pending.acks.push(ack);
    if (!this.flushing && !this.retryTimer) this.flushing = this.flushLoop();
    return this.pending.written;
  }

  /** Resolves once everything added so far is written (or has failed to write once). */
  async flush(): Promise<void> {
    while (this.pending.acks.length > 0 || this.flushing) {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      }
      this.flushing ??= this.flushLoop();
      await this.flushing;
      if (this.retryTimer) return;
    }
  }

  /** Stops writing: called by stop() after the last flush, before the connection closes. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async flushLoop(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.pending.acks.length > 0) {
        const batch = this.pending;
        this.pending = newBatch();
        try {
          await this.write(batch.acks);
          batch.resolve();
        } catch (error) {
          const retry = this.pending;
          retry.acks.unshift(...batch.acks);
          void retry.written.then(batch.resolve);
          this.events.emit('error', { source: 'ack', error });
          if (this.closed) return;
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            if (!this.flushing) this.flushing = this.flushLoop();
          }, 1000);
          this.retryTimer.unref();
          return;
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async write(batch: readonly Ack[]): Promise<void> {
    const completedByAttempt = new Map<number, string[]>();
    const recorded: Ack[] = [];
    const others: Ack[] = [];
    for (const ack of batch) {
      if (ack.recorded !== undefined) recorded.push(ack);
      else if (ack.state !== 'completed') others.push(ack);
      else {
        const ids = completedByAttempt.get(ack.attempt);
        if (ids) ids.push(ack.id);
        else completedByAttempt.set(ack.attempt, [ack.id]);
      }
    }
    for (const [attempt, ids] of completedByAttempt)
      await this.database.query(this.completeStatement(ids, attempt));
    for (const chunk of chunks(recorded))
      await this.database.query(completeRecordedStatement(this.schema, chunk));
    for (const chunk of chunks(others)) await this.database.query(this.finishStatement(chunk));
  }

  /**
   * The hot path. Completions are grouped by attempt so the statement needs no join: ids go in
   * one `= ANY(...)` that the primary key serves, and the attempt guard is a single value.
   */
  private completeStatement(ids: readonly string[], attempt: number) {
    return sql`
      UPDATE ${sql.raw(this.schema)}.jobs SET state = 'completed', completed_at = now()
      WHERE id = ANY(${sql.param(ids)}::bigint[]) AND attempt = ${attempt} AND state = 'executing'`;
  }

  private finishStatement(acks: readonly Ack[]) {
    const column = <T>(pick: (ack: Ack) => T) => sql.param(acks.map(pick));
    return sql`
      UPDATE ${sql.raw(this.schema)}.jobs j SET
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
        AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'`;
  }
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
