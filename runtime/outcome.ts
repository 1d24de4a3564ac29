import type { JobError } from '../sdk/job.js';

/** How an attempt ended, as written back to the job row by the acker. */
export interface Ack {
  readonly id: string;
  /** The attempt this ack is for: a late ack for an older attempt changes nothing. */
  readonly attempt: number;
  readonly state: 'completed' | 'retryable' | 'discarded' | 'cancelled' | 'scheduled';
  /** Milliseconds from now until the job is due again (retryable and snoozed jobs). */
  readonly delayMs?: number;
  readonly error?: JobError;
  /** A snooze gives the attempt back. */
  readonly refund?: boolean;
  /** A completed `@Recorded` job's value, as stored (see runtime/recorded-value.ts). */
  readonly recorded?: Buffer;
}
