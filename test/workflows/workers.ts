import { cancel, defineWorker, discard, type Job, newJob, Recorded, Worker } from '../../index.js';

// The seed's workflow workers, as TypeScript. Each records what it read from upstream steps in
// `seen`, by workflow id and step, for the tests to check.

export const seen = new Map<string, Record<string, unknown>>();

function note(job: Job<unknown>, value: unknown): void {
  const workflow = job.workflow!;
  seen.set(workflow.id, { ...seen.get(workflow.id), [workflow.step]: value });
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class ExtractWorker {
  async process(job: Job<{ dataId: number }>): Promise<{ rows: number }> {
    return { rows: job.args.dataId * 10 };
  }
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class TransformWorker {
  async process(job: Job<Record<string, never>>): Promise<{ rows: number }> {
    const extracted = await job.workflow!.getRecorded('extract', ExtractWorker);
    note(job, extracted);
    return { rows: (extracted?.rows ?? 0) + 1 };
  }
}

@Worker({ queue: 'pipelines' })
export class LoadWorker {
  async process(job: Job<Record<string, never>>): Promise<void> {
    note(job, await job.workflow!.getRecorded('transform', TransformWorker));
  }
}

@Worker({ queue: 'media' })
@Recorded()
export class FetchWorker {
  async process(job: Job<{ url: string }>): Promise<{ bytes: number }> {
    return { bytes: job.args.url.length };
  }
}

@Worker({ queue: 'media' })
@Recorded()
export class ResizeWorker {
  async process(job: Job<{ size: 'small' | 'medium' | 'large' }>): Promise<string> {
    const fetched = await job.workflow!.getRecorded('fetch', FetchWorker);
    note(job, fetched);
    return `${job.args.size}:${fetched?.bytes}`;
  }
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class LetterWorker {
  async process(job: Job<{ letter: string }>): Promise<string> {
    return job.args.letter;
  }
}

@Worker({ queue: 'pipelines' })
export class MergeWorker {
  async process(job: Job<Record<string, never>>): Promise<void> {
    note(job, await job.workflow!.allRecorded({ onlyDeps: true }));
  }
}

@Worker({ queue: 'pipelines' })
export class ExtraWorker {
  async process(job: Job<Record<string, never>>): Promise<void> {
    note(
      job,
      (await job.workflow!.jobs({ onlyDeps: true })).map((dep) => dep.workflowStep),
    );
  }
}

@Worker({ queue: 'pipelines' })
export class AppenderWorker {
  async process(job: Job<{ children: number }>): Promise<void> {
    const workflow = job.workflow!;
    const appended = await workflow.append((flow) => {
      let built = flow;
      for (let index = 0; index < job.args.children; index++) {
        built = built.add(`child_${index}`, newJob(LetterWorker, { letter: String(index) }), {
          deps: [workflow.step],
        });
      }
      return built;
    });
    note(
      job,
      appended.map((child) => child.state),
    );
  }
}

/** Ends as its args say: completes, throws until discarded, cancels or discards itself. */
export class OutcomeWorker {
  async process(
    job: Job<{
      outcome: 'complete' | 'throw' | 'cancel' | 'discard';
      ms?: number;
      failUntilAttempt?: number;
    }>,
  ) {
    if (job.args.ms) await new Promise((resolve) => setTimeout(resolve, job.args.ms));
    if (job.attempt < (job.args.failUntilAttempt ?? 0)) throw new Error(`attempt ${job.attempt} fails`);
    switch (job.args.outcome) {
      case 'throw':
        throw new Error('this step fails');
      case 'cancel':
        return cancel('this step gives up');
      case 'discard':
        return discard('this step is hopeless');
      default:
        return undefined;
    }
  }
  backoff() {
    return 0;
  }
}
defineWorker(OutcomeWorker, { queue: 'pipelines', maxAttempts: 3 });

export const workflowWorkers = [
  ExtractWorker,
  TransformWorker,
  LoadWorker,
  FetchWorker,
  ResizeWorker,
  LetterWorker,
  MergeWorker,
  ExtraWorker,
  OutcomeWorker,
  AppenderWorker,
];

export const workflowQueues = { pipelines: 10, media: 10 };
