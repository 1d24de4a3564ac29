import { EventEmitter } from 'node:events';
import type { Job, JobProgress } from '../../sdk/job.js';
import type { ProcessOutcome } from '../../sdk/worker.js';

export interface JobStartEvent {
  readonly job: Job<unknown>;
  /** Milliseconds from the time the job was due to the start of the attempt. */
  readonly queueTime: number;
}

export interface JobStopEvent extends JobStartEvent {
  /** Milliseconds the attempt ran. */
  readonly runTime: number;
  readonly outcome: ProcessOutcome;
}

export interface JobExceptionEvent extends JobStopEvent {
  readonly error: unknown;
}

/** A job's progress, as stored: emitted on the node that runs the job, once per write. */
export interface JobProgressEvent {
  readonly id: string;
  readonly worker: string;
  readonly queue: string;
  readonly attempt: number;
  readonly progress: JobProgress;
}

/** This node became the leader (`leader: true`) or stopped being it. */
export interface LeadershipEvent {
  readonly node: string;
  readonly leader: boolean;
}

/** The leader's lifeline rescued the executing jobs of nodes that stopped heartbeating. */
export interface RescueEvent {
  readonly node: string;
  readonly rescued: number;
}

export interface KobanEvents {
  'job:start': [JobStartEvent];
  /** The attempt ended without an exception: completed, cancelled, discarded or snoozed. */
  'job:stop': [JobStopEvent];
  /** The attempt threw or timed out. */
  'job:exception': [JobExceptionEvent];
  /** A running job's `job.progress(value)` was written. */
  'job:progress': [JobProgressEvent];
  'node:leadership': [LeadershipEvent];
  'node:rescue': [RescueEvent];
  /** A background task (fetch, ack, a plugin) failed; it is retried. */
  error: [{ readonly source: string; readonly error: unknown }];
}

/** Typed events for logging and metrics. Listener errors are caught so a metrics bug never fails a job. */
export class KobanEventEmitter {
  private readonly emitter = new EventEmitter();

  on<E extends keyof KobanEvents>(event: E, listener: (...args: KobanEvents[E]) => void): () => void {
    const safe = (...args: KobanEvents[E]) => {
      try {
        listener(...args);
      } catch (error) {
        if (event !== 'error') this.emit('error', { source: `listener of ${event}`, error });
      }
    };
    this.emitter.on(event, safe as (...args: unknown[]) => void);
    return () => this.emitter.off(event, safe as (...args: unknown[]) => void);
  }

  /** Whether anyone listens to job events: without listeners, the executor skips building them. */
  get observesJobs(): boolean {
    return (
      this.emitter.listenerCount('job:start') +
        this.emitter.listenerCount('job:stop') +
        this.emitter.listenerCount('job:exception') >
      0
    );
  }

  emit<E extends keyof KobanEvents>(event: E, ...args: KobanEvents[E]): void {
    if (this.emitter.listenerCount(event) > 0) this.emitter.emit(event, ...args);
  }
}
