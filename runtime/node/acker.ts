import { KobanDatabaseError } from '../../sdk/errors.js';
import { storableText } from '../../sdk/storable-text.js';
import type { Ack } from '../engine/ack.js';
import type { Engine } from '../engine/engine.js';
import { late, valueWithin } from './deadline.js';
import type { KobanEventEmitter } from './events.js';

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
 * Whether the database refused the data of a write (a value it cannot store, a broken
 * constraint), rather than failing to take writes at all: SQLSTATE classes 22, 23 and 54.
 * Retrying the same data cannot help; retrying after a lost connection can.
 */
function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/**
 * Writes attempt outcomes back in batches: everything that finished while the previous write was
 * in flight goes out together. A write that fails for want of a database is kept and tried again,
 * so an outcome is never dropped while the node lives. A write whose data the database refuses is
 * split, so one bad outcome never holds up the others: each is written alone, and one that is
 * still refused is written without what it carried (its error text, its recorded value), with
 * an error that says why. `add` resolves once the ack is written, which is when a producer frees
 * the job's slot: a slow database slows fetching instead of piling up executing jobs.
 */
export class Acker {
  private pending = newBatch();
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly events: KobanEventEmitter,
    /** Milliseconds a write may take before it is abandoned (cancelled in the server) and tried again. */
    private readonly timeoutMs: number,
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

  private async write(acks: readonly Ack[]): Promise<void> {
    try {
      await this.send(acks);
    } catch (error) {
      if (!isRefusedData(error)) throw error;
      if (acks.length > 1) {
        // Halves, so that one refused outcome among thousands costs a few writes, not thousands.
        const middle = Math.ceil(acks.length / 2);
        await this.write(acks.slice(0, middle));
        await this.write(acks.slice(middle));
        return;
      }
      await this.writeRefused(acks[0]!, error);
    }
  }

  /**
   * One write, abandoned past its deadline: a write the server sleeps on (a lock, a trigger) or
   * whose reply a half-open connection holds would stop every outcome of the node behind it. A
   * write retried after it committed changes nothing: each guards on the attempt it ends.
   */
  private async send(acks: readonly Ack[]): Promise<void> {
    const abandon = new AbortController();
    const written = await valueWithin(
      this.engine.ack(acks, { signal: abandon.signal, ms: this.timeoutMs }),
      this.timeoutMs,
    );
    if (written !== late) return;
    abandon.abort();
    throw new KobanDatabaseError(
      `a write of ${acks.length} outcome(s) got no answer within claimTimeout (${this.timeoutMs} ms): abandoned, and written again`,
    );
  }

  /** The outcome of one job whose write was refused: its state, with an error saying why. */
  private async writeRefused(ack: Ack, error: unknown): Promise<void> {
    this.events.emit('error', { source: `ack of job ${ack.job.id}`, error });
    const reason = storableText(
      `KobanDatabaseError: the outcome of this attempt could not be stored: ${(error as Error)?.message}`,
    );
    const { recorded: _recorded, ...rest } = ack;
    const replacement: Ack = {
      ...rest,
      error: { attempt: ack.job.attempt, at: new Date().toISOString(), error: reason },
    };
    try {
      await this.send([replacement]);
    } catch (again) {
      if (!isRefusedData(again)) throw again;
      // Nothing of this outcome can be stored: the job stays executing, and the lifeline rescues it.
      this.events.emit('error', { source: `ack of job ${ack.job.id}`, error: again });
    }
  }
}
