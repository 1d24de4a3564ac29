import { type Job, Recorded, Worker } from 'koban';

// The import pipeline of the seed's workflows: extract, then one transform per partition
// (fan-out), a merge of them all (fan-in), then load. Each step reads what its deps recorded.

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Worker({ queue: 'pipelines' })
@Recorded()
export class ExtractWorker {
  async process(job: Job<{ source: string; partitions: number }>): Promise<{ rows: number[] }> {
    await pause(300);
    return { rows: Array.from({ length: job.args.partitions }, (_, partition) => 100 + partition * 10) };
  }
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class TransformWorker {
  async process(job: Job<{ partition: number }>): Promise<{ partition: number; rows: number }> {
    const extracted = await job.workflow!.getRecorded('extract', ExtractWorker);
    return { partition: job.args.partition, rows: extracted!.rows[job.args.partition]! };
  }
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class MergeWorker {
  async process(job: Job<Record<string, never>>): Promise<{ partitions: number; rows: number }> {
    const parts = Object.values(await job.workflow!.allRecorded({ onlyDeps: true })) as { rows: number }[];
    return { partitions: parts.length, rows: parts.reduce((sum, part) => sum + part.rows, 0) };
  }
}

@Worker({ queue: 'pipelines' })
@Recorded()
export class LoadWorker {
  async process(job: Job<{ table: string }>): Promise<{ table: string; loaded: number }> {
    const merged = await job.workflow!.getRecorded('merge', MergeWorker);
    return { table: job.args.table, loaded: merged!.rows };
  }
}

/** The step appended to the running workflow: it checks what was loaded. */
@Worker({ queue: 'pipelines' })
@Recorded()
export class AuditWorker {
  async process(job: Job<{ expected: number }>): Promise<{ ok: boolean }> {
    const loaded = await job.workflow!.getRecorded('load', LoadWorker);
    return { ok: loaded?.loaded === job.args.expected };
  }
}
