import { type Job, Recorded, snooze, Worker } from 'koban';

interface ReportArgs {
  accountId: number;
  month: Date;
}

interface Report {
  rows: number;
  total: bigint;
  generatedAt: Date;
}

@Worker({ queue: 'reports' })
@Recorded()
export class ReportWorker {
  async process(job: Job<ReportArgs>) {
    if (job.args.accountId === 0) return snooze(60);
    const report: Report = { rows: 3, total: 1234567890123456789n, generatedAt: job.args.month };
    return report;
  }
}
