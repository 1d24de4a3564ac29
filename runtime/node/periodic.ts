/**
 * Runs a task now and then every `intervalMs`, one run at a time. A failed run is reported and
 * the next one happens on schedule. `stop()` waits for a run in progress.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
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

  private tick(): void {
    if (this.stopped) return;
    this.current = this.runOnce().then(() => {
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
