import { KobanValidationError } from '../../sdk/errors.js';
import type { JobProgress } from '../../sdk/job.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { Engine } from '../engine/engine.js';
import type { KobanEventEmitter } from './events.js';

/** The largest progress value stored, as JSON text: progress is a note, not a result. */
export const progressLimitBytes = 4096;

/**
 * Where the jobs running on a node send `job.progress(value)`. Each job's writes are throttled:
 * the first is written at once, the next no sooner than `intervalMs` after the previous one
 * ended, holding only the latest value meanwhile, so a tight loop costs one write per interval.
 * When the attempt ends, `settle` writes the value still held before the outcome is acked.
 */
export class ProgressSink {
  private readonly writers = new Map<string, ProgressWriter>();

  constructor(
    private readonly engine: Engine,
    private readonly intervalMs: number,
    private readonly events: KobanEventEmitter,
  ) {}

  /** Checks and holds `value` for the job, writing it now or after the interval. */
  set(job: ClaimedJob, value: JobProgress): void {
    const text = checkedProgress(value, job);
    let writer = this.writers.get(job.id);
    if (!writer) {
      writer = new ProgressWriter(job, this.engine, this.intervalMs, this.events);
      this.writers.set(job.id, writer);
    }
    writer.hold(text, value);
  }

  /** Writes what the job still holds, once its attempt has ended; nothing for a job that set none. */
  settle(id: string): Promise<void> | undefined {
    if (this.writers.size === 0) return undefined;
    const writer = this.writers.get(id);
    if (!writer) return undefined;
    this.writers.delete(id);
    return writer.flush();
  }
}

class ProgressWriter {
  private held: { text: string; value: JobProgress } | undefined;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteEnded = 0;

  constructor(
    private readonly job: ClaimedJob,
    private readonly engine: Engine,
    private readonly intervalMs: number,
    private readonly events: KobanEventEmitter,
  ) {}

  hold(text: string, value: JobProgress): void {
    this.held = { text, value };
    if (this.writing || this.timer) return;
    const wait = this.lastWriteEnded + this.intervalMs - Date.now();
    if (wait <= 0) this.write();
    else this.timer = setTimeout(() => this.write(), wait);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.held) await this.write();
  }

  private write(): Promise<void> {
    this.timer = undefined;
    const held = this.held!;
    this.held = undefined;
    const { job } = this;
    this.writing = this.engine
      .setProgress(job.id, job.attempt, held.text)
      .then(
        (stored) => {
          if (stored) {
            this.events.emit('job:progress', {
              id: job.id,
              worker: job.worker,
              queue: job.queue,
              attempt: job.attempt,
              progress: held.value,
            });
          }
        },
        (error) => this.events.emit('error', { source: `progress of job ${job.id}`, error }),
      )
      .finally(() => {
        this.writing = undefined;
        this.lastWriteEnded = Date.now();
        if (this.held && !this.timer) this.timer = setTimeout(() => this.write(), this.intervalMs);
      });
    return this.writing;
  }
}

/** The value as JSON text, or a KobanValidationError saying what is wrong with it. */
export function checkedProgress(value: JobProgress, job: ClaimedJob): string {
  const path = `job.progress (job ${job.id}, ${job.worker})`;
  const fail = (message: string) => new KobanValidationError([{ path, message }]);
  if (typeof value === 'number' && !Number.isFinite(value))
    throw fail(`expected a finite number, got ${value}`);
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol')
    throw fail(`expected a number or a JSON value, got ${value === null ? 'null' : typeof value}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw fail(`expected a JSON value: ${(error as Error).message}`);
  }
  if (text === undefined) throw fail(`expected a JSON value, got ${typeof value}`);
  const bytes = Buffer.byteLength(text);
  if (bytes > progressLimitBytes)
    throw fail(
      `${bytes} bytes as JSON, over the ${progressLimitBytes}-byte limit: keep results for @Recorded`,
    );
  return text;
}
