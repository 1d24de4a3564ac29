import { freshDatabase, withSql } from '../../support/databases.js';
import { waitFor } from '../../support/wait.js';
import { createRunsTable, openRecorder } from './workers.js';

/** A fresh database with the side table of runs, and the recorder of this process open on it. */
export async function recordingDatabase(): Promise<string> {
  const url = await freshDatabase();
  await withSql(url, (sql) => sql.unsafe(createRunsTable));
  openRecorder(url);
  return url;
}

/** Waits until `total` jobs of the database are completed. */
export async function waitForCompleted(url: string, total: number): Promise<void> {
  await waitFor(
    `${total} jobs completed`,
    () =>
      withSql(url, async (sql) => {
        const [row] = await sql<{ done: number }[]>`
          SELECT count(*)::int AS done FROM koban.all_jobs WHERE state = 'completed'`;
        return row!.done === total;
      }),
    60_000,
  );
}
