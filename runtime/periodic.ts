import type { KobanEventEmitter } from './events.js';

/**
 * Runs a task now and then every `intervalMs`, one run at a time. A failed run is reported and
 * the next one happens on schedule. `stop()` waits for a run in progress.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly events: KobanEventEmitter,
  ) {}

  start(): void {
    this.tick();
  }

  /** Runs the task now, out of schedule, and resolves when it is done. */
  async runNow(): Promise<void> {
    await this.current;
    this.current = this.runOnce();
    await this.current;
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
      this.events.emit('error', { source: this.name, error });
    }
  }
}
