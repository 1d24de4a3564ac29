import type { Engine } from '../engine/engine.js';
import { Periodic } from './periodic.js';
import type { Producer } from './producer.js';

/**
 * The node's poll, the net under NOTIFY: every `pollInterval`, one statement asks which of the
 * node's queues have available jobs, and only their producers claim. With a timer per producer,
 * each idle queue cost a claim per poll: 10,000 idle queues made 9,965 transactions a second.
 */
export class Poller {
  private readonly periodic: Periodic;

  constructor(
    private readonly engine: Engine,
    private readonly producers: ReadonlyMap<string, Producer>,
    private readonly interval: number,
    report: (error: unknown) => void,
  ) {
    this.periodic = new Periodic(interval, () => this.poll(), report);
  }

  start(): void {
    this.periodic.start(this.interval);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private async poll(): Promise<void> {
    if (this.producers.size === 0) return;
    for (const queue of await this.engine.queuesWithAvailable([...this.producers.keys()])) {
      this.producers.get(queue)?.announce();
    }
  }
}
