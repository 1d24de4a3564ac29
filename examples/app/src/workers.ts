import { cancel, type Job, snooze, Worker } from 'koban';

export interface WelcomeArgs {
  email: string;
  name: string;
}

@Worker({ queue: 'mailers', maxAttempts: 3 })
export class WelcomeEmailWorker {
  async process(job: Job<WelcomeArgs>) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { sentTo: job.args.email };
  }
}

/** Fails its first attempt to show a retry; `backoff` shortens the wait for the demo. */
@Worker({ queue: 'default', maxAttempts: 5 })
export class FlakyImportWorker {
  async process(job: Job<{ importId: number }>) {
    if (job.attempt === 1) throw new Error(`import ${job.args.importId}: upstream timed out`);
  }

  backoff() {
    return 1;
  }
}

/** Waits for a report that is ready a second after it is requested; snoozing does not spend an attempt. */
@Worker({ queue: 'default' })
export class ReportWorker {
  async process(job: Job<{ reportId: number }>) {
    if (Date.now() - job.insertedAt.getTime() < 1000) return snooze(1);
    return { reportId: job.args.reportId, pages: 12 };
  }
}

@Worker({ queue: 'default' })
export class ObsoleteTaskWorker {
  async process(job: Job<{ taskId: number }>) {
    return cancel(`task ${job.args.taskId} is no longer needed`);
  }
}

@Worker({ queue: 'default' })
export class HeartbeatWorker {
  async process(_job: Job<Record<string, never>>) {}
}
