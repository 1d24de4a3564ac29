import { KobanAwaitTimeoutError, KobanJobFailedError } from '../../sdk/errors.js';
import { isFinalState } from '../../sdk/states.js';
import type { Engine } from '../engine/engine.js';
import type { StoredJob } from '../engine/records.js';

/** Milliseconds between reads of the awaited jobs while any wait is open. */
const pollMs = 50;

interface Wait {
  readonly resolve: (job: StoredJob) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/**
 * Waits for jobs to finish, wherever they run: one read of every awaited job (by primary key,
 * through `all_jobs`) per poll, while any wait is open, so a job that ran on another node is
 * seen as soon as its outcome is written. Each wait settles once: with the job as it finished,
 * or with an error once the job is gone or the timeout passed.
 */
export class JobWaiter {
  private readonly waits = new Map<string, Set<Wait>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  constructor(private readonly engine: Engine) {}

  wait(id: string, timeoutMs: number | undefined): Promise<StoredJob> {
    if (this.closed)
      return Promise.reject(new KobanJobFailedError(id, `cannot wait for job ${id}: this Koban is stopped`));
    return new Promise<StoredJob>((resolve, reject) => {
      let wait: Wait;
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.remove(id, wait);
              this.engine
                .getJob(id)
                .then((job) => reject(new KobanAwaitTimeoutError(id, timeoutMs, job?.state ?? 'gone')))
                .catch(() => reject(new KobanAwaitTimeoutError(id, timeoutMs, 'unknown')));
            }, timeoutMs);
      wait = { resolve, reject, timer };
      let set = this.waits.get(id);
      if (!set) {
        set = new Set();
        this.waits.set(id, set);
      }
      set.add(wait);
      this.schedule(0);
    });
  }

  /** Ends every open wait: the node is stopping. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const [id, set] of this.waits) {
      for (const wait of set) {
        clearTimeout(wait.timer);
        wait.reject(new KobanJobFailedError(id, `stopped waiting for job ${id}: this Koban is stopping`));
      }
    }
    this.waits.clear();
  }

  private remove(id: string, wait: Wait): void {
    const set = this.waits.get(id);
    set?.delete(wait);
    if (set?.size === 0) this.waits.delete(id);
  }

  private schedule(delay: number): void {
    if (this.polling || this.timer || this.waits.size === 0 || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, delay);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const ids = [...this.waits.keys()];
      const found = new Map((await this.engine.jobsByIds(ids)).map((job) => [job.id, job]));
      for (const id of ids) {
        const job = found.get(id);
        if (job && !isFinalState(job.state)) continue;
        const set = this.waits.get(id);
        if (!set) continue;
        this.waits.delete(id);
        for (const wait of set) {
          clearTimeout(wait.timer);
          if (job) wait.resolve(job);
          else
            wait.reject(new KobanJobFailedError(id, `job ${id} no longer exists: it was deleted or pruned`));
        }
      }
    } catch {
      // The database is away: the next poll tries again; timeouts still apply.
    } finally {
      this.polling = false;
      this.schedule(pollMs);
    }
  }
}
