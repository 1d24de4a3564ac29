import type { JobRecord, JsonObject } from '../../sdk/job.js';
import { type StoredJob, withArgs } from '../engine/records.js';
import { readableArgs } from './stored-args.js';
import type { WorkerCatalog } from './worker-catalog.js';

/** Jobs as records with readable args: opened where this node has the worker's keys. */
export async function readableJobs(catalog: WorkerCatalog, jobs: readonly StoredJob[]): Promise<JobRecord[]> {
  const readable: JobRecord[] = [];
  for (const job of jobs) {
    const entry = await catalog.entryForName(job.worker);
    readable.push(withArgs(job, readableArgs(entry, job.args, job) as JsonObject));
  }
  return readable;
}
