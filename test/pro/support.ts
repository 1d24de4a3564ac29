import type { JobRecord, Koban } from '../../index.js';
import { withSql } from '../support/databases.js';
import { waitFor } from '../support/wait.js';

export interface RawJob {
  id: string;
  state: string;
  worker: string;
  queue: string;
  args: unknown;
  meta: Record<string, unknown>;
  tags: string[];
  priority: number;
  max_attempts: number;
  scheduled_at: Date;
  unique_key: string | null;
  unique_states: number | null;
  errors: { error: string }[];
  attempt: number;
  recorded: Buffer | null;
}

/** The stored rows of one worker, read past Koban with plain SQL, oldest first. */
export function rawJobs(url: string, worker: string): Promise<RawJob[]> {
  return withSql(url, (sql) =>
    sql<RawJob[]>`
      SELECT id::text, state, worker, queue, args, meta, tags, priority, max_attempts, scheduled_at,
             unique_key, unique_states, to_json(errors) AS errors, attempt, recorded
      FROM koban.all_jobs WHERE worker = ${worker} ORDER BY id`.then((rows) => [...rows]),
  );
}

export function rawJob(url: string, id: string): Promise<RawJob> {
  return withSql(url, async (sql) => {
    const [row] = await sql<RawJob[]>`
      SELECT id::text, state, worker, queue, args, meta, tags, priority, max_attempts, scheduled_at,
             unique_key, unique_states, to_json(errors) AS errors, attempt, recorded
      FROM koban.all_jobs WHERE id = ${id}`;
    if (!row) throw new Error(`no job ${id}`);
    return row;
  });
}

/** Runs one statement on the test database, for moving jobs into states and times by hand. */
export function exec(url: string, text: string, params: unknown[] = []): Promise<unknown[]> {
  return withSql(url, (sql) => sql.unsafe(text, params as never[]).then((rows) => [...rows]));
}

/** Waits until a job has left available/executing, and returns it as stored. */
export async function settled(koban: Koban, id: string): Promise<JobRecord> {
  return waitFor(`job ${id} to finish its attempt`, async () => {
    const job = await koban.getJob(id);
    return job && !['available', 'executing'].includes(job.state) ? job : null;
  });
}
