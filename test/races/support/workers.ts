import postgres from 'postgres';
import { defineWorker, type Job } from '../../../index.js';

// Workers shared by the race tests and the child nodes they spawn. Each run is recorded in a side
// table `runs` through a connection of its own, so the record does not depend on Koban's acks.

let recorder: postgres.Sql | undefined;

/** The side table of runs: deliberately without a unique constraint, so double runs show up. */
export const createRunsTable = `
  CREATE TABLE IF NOT EXISTS public.runs (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    node text NOT NULL,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
  )`;

export function openRecorder(url: string): void {
  recorder = postgres(url, { max: 4, onnotice: () => {} });
}

export async function closeRecorder(): Promise<void> {
  await recorder?.end({ timeout: 5 });
  recorder = undefined;
}

function sql(): postgres.Sql {
  if (!recorder) throw new Error('call openRecorder(url) before running the race workers');
  return recorder;
}

/** The node running an attempt: the last name in attemptedBy. */
export function nodeOf(job: { attemptedBy: readonly string[] }): string {
  return job.attemptedBy[job.attemptedBy.length - 1] ?? '?';
}

/** Records one finished run per attempt. */
export class RecordRunWorker {
  async process(job: Job<Record<string, never>>) {
    await sql()`
      INSERT INTO public.runs (job_id, node, attempt, finished_at)
      VALUES (${job.id}, ${nodeOf(job)}, ${job.attempt}, clock_timestamp())`;
  }
}
defineWorker(RecordRunWorker, { queue: 'q' });

export interface HangArgs {
  /** The nodes on which a run hangs; on any other node it finishes at once. */
  hangOn: string[];
  /** Hang only on attempts up to this one. Default: every attempt. */
  untilAttempt?: number;
  /** How long a hanging attempt lasts; default: until the process dies or the job is aborted. */
  hangMs?: number;
  /** Keep hanging when `job.signal` aborts, like a worker that never looks at it. */
  ignoreAbort?: boolean;
}

/** Records its start, maybe hangs, then records its finish. */
export class HangWorker {
  async process(job: Job<HangArgs>) {
    const [run] = await sql()<{ id: string }[]>`
      INSERT INTO public.runs (job_id, node, attempt) VALUES (${job.id}, ${nodeOf(job)}, ${job.attempt})
      RETURNING id`;
    if (job.args.hangOn.includes(nodeOf(job)) && job.attempt <= (job.args.untilAttempt ?? job.attempt)) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, job.args.hangMs ?? 600_000);
        if (!job.args.ignoreAbort) {
          job.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(job.signal.reason);
          });
        }
      });
    }
    await sql()`UPDATE public.runs SET finished_at = clock_timestamp() WHERE id = ${run!.id}`;
  }
}
defineWorker(HangWorker, { queue: 'slow', maxAttempts: 3 });

/** The cron entry's worker: does nothing; the test counts the jobs inserted per tick. */
export class CronTickWorker {
  async process(_job: Job<Record<string, never>>) {}
}
defineWorker(CronTickWorker, { queue: 'cron' });

/** A batch's callback worker: each callback run is recorded like a job run. */
export class BatchRecorderWorker {
  async process(_job: Job<Record<string, never>>) {}
  async handleAttempted(job: Job<Record<string, never>>) {
    await this.record(job);
  }
  async handleCompleted(job: Job<Record<string, never>>) {
    await this.record(job);
  }
  private async record(job: Job<Record<string, never>>) {
    await sql()`
      INSERT INTO public.runs (job_id, node, attempt, finished_at)
      VALUES (${job.id}, ${nodeOf(job)}, ${job.attempt}, clock_timestamp())`;
  }
}
defineWorker(BatchRecorderWorker, { queue: 'q' });

export const raceWorkers = [RecordRunWorker, HangWorker, CronTickWorker, BatchRecorderWorker];
