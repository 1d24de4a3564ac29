export const jobStates = [
  'available',
  'scheduled',
  'executing',
  'retryable',
  'completed',
  'discarded',
  'cancelled',
  'held',
] as const;

export type JobState = (typeof jobStates)[number];

/** States a job never leaves on its own. */
export const finalStates: readonly JobState[] = ['completed', 'discarded', 'cancelled'];

/** One failed attempt, kept on the job in order. */
export interface JobError {
  readonly attempt: number;
  readonly at: string;
  readonly error: string;
  readonly stack?: string;
}

export type JsonObject = { [key: string]: unknown };

/** A job as stored: what `getJob` and `listJobs` return. */
export interface JobRecord<Args = JsonObject, Meta extends JsonObject = JsonObject> {
  readonly id: string;
  readonly state: JobState;
  readonly queue: string;
  readonly worker: string;
  readonly args: Args;
  readonly meta: Meta;
  readonly tags: readonly string[];
  readonly errors: readonly JobError[];
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly insertedAt: Date;
  readonly scheduledAt: Date;
  readonly attemptedAt: Date | null;
  readonly completedAt: Date | null;
  readonly cancelledAt: Date | null;
  readonly discardedAt: Date | null;
  readonly attemptedBy: readonly string[];
}

/** The job handed to `process`: the stored job plus an abort signal for timeouts and shutdown. */
export interface Job<Args = JsonObject, Meta extends JsonObject = JsonObject> extends JobRecord<Args, Meta> {
  /** Aborted when the attempt times out, the job is cancelled, or the node shuts down. */
  readonly signal: AbortSignal;
}
