/**
 * Runs a task now and then every `intervalMs`, one run at a time. A failed run is reported and
 * the next one happens on schedule. `stop()` waits for a run in progress.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  /** The runs so far, scheduled or asked for by runNow(), one after another. */
  private current: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly report: (error: unknown) => void,
  ) {}

  /** Starts running: now, or after `delayMs`. */
  start(delayMs = 0): void {
    this.stopped = false;
    if (delayMs === 0) this.tick();
    else {
      this.timer = setTimeout(() => this.tick(), delayMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  /** Runs the task once more, after the run in progress if any; rejects if that run fails. */
  runNow(): Promise<void> {
    const run = this.current.then(async () => {
      await this.task();
    });
    this.current = run.catch(() => undefined);
    return run;
  }

  private tick(): void {
    if (this.stopped) return;
    const run = this.current.then(() => this.runOnce());
    this.current = run.then(() => {
      if (this.stopped) return;
      this.timer = setTimeout(() => this.tick(), this.intervalMs);
      this.timer.unref();
    });
  }

  private async runOnce(): Promise<void> {
    try {
      await this.task();
    } catch (error) {
      this.report(error);
    }
  }
}
