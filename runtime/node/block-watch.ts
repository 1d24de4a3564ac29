import type { KobanLogger } from './logger.js';

/** How often the watch reads the clock: a block shorter than this may go unmeasured, harmlessly. */
const stepMs = 100;

/** No block shorter than this is worth a warning, whatever `blockTolerance` is. */
const quietBelowMs = 250;

export interface BlockWatchOptions {
  readonly node: string;
  readonly blockTolerance: number;
  readonly rescueAfter: number;
  readonly logger: Pick<KobanLogger, 'warn'>;
  /** Called after every block long enough to warn of, with its length. */
  readonly onBlock: (blockedMs: number) => void;
}

/**
 * Measures how long synchronous work blocks the node's event loop: a timer due every `stepMs`
 * fires late by about as long (a step at most more). While the loop is blocked the node sends no heartbeat, and past
 * `blockTolerance` the leader may take it for dead and run its jobs again: a block that reached
 * half of it is logged, so that the operator hears of it before jobs run twice.
 */
export class BlockWatch {
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;

  constructor(private readonly options: BlockWatchOptions) {}

  start(): void {
    this.lastTick = performance.now();
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.tick(), stepMs);
    this.timer.unref();
  }

  private tick(): void {
    // Nothing else ran on the loop for at most this long: the block, and up to a step more.
    const now = performance.now();
    const blocked = now - this.lastTick;
    this.lastTick = now;
    const { blockTolerance } = this.options;
    if (blocked >= Math.max(blockTolerance / 2, quietBelowMs)) {
      this.warn(blocked);
      this.options.onBlock(blocked);
    }
    this.schedule();
  }

  private warn(blockedMs: number): void {
    const { node, blockTolerance, rescueAfter } = this.options;
    const seconds = `${Math.round(blockedMs / 100) / 10} s`;
    const consequence =
      blockedMs >= rescueAfter
        ? `past rescueAfter (${rescueAfter} ms): the leader may have taken the node for dead and run its jobs ` +
          'again; the node beats and aborts the jobs no longer executing under it before it claims more'
        : blockedMs >= blockTolerance
          ? `past blockTolerance (${blockTolerance} ms): a little longer, past rescueAfter (${rescueAfter} ms), ` +
            'and the leader takes the node for dead and runs its jobs again'
          : `over half of blockTolerance (${blockTolerance} ms): past it, the leader may take the node for dead ` +
            'and run its jobs again';
    this.options.logger.warn(
      { node, blockedMs: Math.round(blockedMs), blockTolerance, rescueAfter },
      `node ${node}: synchronous work blocked the event loop for ${seconds}, ${consequence}. ` +
        'Move long synchronous work off the event loop (a worker thread), or raise blockTolerance and rescueAfter.',
    );
  }
}
