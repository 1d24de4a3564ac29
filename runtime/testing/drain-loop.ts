import type { TestingHarness } from './harness.js';

export interface DrainOptions {
  /** Only this queue; default every queue. */
  queue?: string;
  /** Also run scheduled and retryable jobs now, whatever their time. Default false. */
  withScheduled?: boolean;
  /**
   * Keep draining the jobs that drained jobs cause: jobs they insert, workflow steps their
   * completion releases, batch callbacks. Default true.
   */
  withRecursion?: boolean;
}

export type DrainResult = Record<'completed' | 'cancelled' | 'discarded' | 'retryable' | 'snoozed', number>;

/**
 * Runs available jobs one at a time through the harness, writing each outcome before the next
 * job runs, until none is left; counts the outcomes. Shared by `drainJobs` and the inline
 * testing mode.
 */
export async function drainWith(harness: TestingHarness, options: DrainOptions = {}): Promise<DrainResult> {
  const counts: DrainResult = { completed: 0, cancelled: 0, discarded: 0, retryable: 0, snoozed: 0 };
  const snoozed = new Set<string>();
  for (;;) {
    if (options.withScheduled) await harness.stageNow({ queue: options.queue }, [...snoozed]);
    else await harness.stage();
    // A job that snoozes runs once per drain: snoozing again would keep the drain going forever.
    let progress = 0;
    for (const queue of await harness.availableQueues(options.queue)) {
      for (const row of await harness.claim(queue, 100)) {
        const { ack } = await harness.run(row);
        const id = String(row.id);
        if (ack.state === 'scheduled' && snoozed.has(id)) continue;
        counts[ack.state === 'scheduled' ? 'snoozed' : ack.state]++;
        progress++;
        if (ack.state === 'scheduled') snoozed.add(id);
      }
    }
    if (progress === 0 || options.withRecursion === false) return counts;
  }
}
