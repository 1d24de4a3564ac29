import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import type { KobanEventEmitter } from './events.js';
import type { Ack } from './outcome.js';
import { completeRecordedStatement } from './recorded.js';

/**
 * Writes attempt outcomes back in batches: everything that finished while the previous write was
 * in flight goes out in one statement per kind. A failed write is kept and tried again, so an
 * outcome is never dropped while the node lives.
 */
export class Acker {
  private pending: Ack[] = [];
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly schema: string,
    private readonly events: KobanEventEmitter,
  ) {}

  add(ack: Ack): void {
    // After stop() the connection is gone; the job stays executing and the lifeline rescues it.
    if (this.closed) return;
    this.pending.push(ack);
    if (!this.flushing && !this.retryTimer) this.flushing = this.flushLoop();
  }

  /** Resolves once everything added so far is written (or has failed to write once). */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) {
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

  get size(): number {
    return this.pending.length;
  }

  private async flushLoop(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.write(batch);
        } catch (error) {
          this.pending = batch.concat(this.pending);
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
    const completed = batch.filter((ack) => ack.state === 'completed' && ack.recorded === undefined);
    const recorded = batch.filter((ack) => ack.recorded !== undefined);
    const others = batch.filter((ack) => ack.state !== 'completed');
    if (completed.length > 0) await this.database.query(this.completeStatement(completed));
    if (recorded.length > 0) await this.database.query(completeRecordedStatement(this.schema, recorded));
    if (others.length > 0) await this.database.query(this.finishStatement(others));
  }

  /** The hot path: most attempts complete, and completing needs only ids and attempts. */
  private completeStatement(acks: readonly Ack[]) {
    return sql`
      UPDATE ${sql.raw(this.schema)}.jobs j SET state = 'completed', completed_at = now()
      FROM unnest(${sql.param(acks.map((ack) => ack.id))}::bigint[], ${sql.param(acks.map((ack) => ack.attempt))}::int[])
        AS a(id, attempt)
      WHERE j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'`;
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
      WHERE j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'`;
  }
}
