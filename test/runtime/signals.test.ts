import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshDatabase, withSql } from '../support/databases.js';
import { waitFor } from '../support/wait.js';

const script = fileURLToPath(new URL('./support/signal-node.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('koban.stopOnSignals()', () => {
  it('lets a running job finish on SIGTERM, then ends the process as the signal would', async () => {
    const url = await freshDatabase();
    const child = spawn(process.execPath, ['--import', 'tsx', script, url], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor(
        `the job to start (stdout: ${stdout}, stderr: ${stderr})`,
        () => /"job"[\s\S]*started|started[\s\S]*"job"/.test(stdout) || child.exitCode !== null,
        60_000,
      );
      child.kill('SIGTERM');
      expect(await exited, stderr).toEqual({ code: null, signal: 'SIGTERM' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const id = (
      JSON.parse(stdout.split('\n').find((line) => line.startsWith('{')) ?? '{}') as { job: string }
    ).job;
    const rows = await withSql(
      url,
      (sql) =>
        sql<{ state: string; attempt: number }[]>`SELECT state, attempt FROM koban.all_jobs WHERE id = ${id}`,
    );
    expect(rows).toEqual([{ state: 'completed', attempt: 1 }]);
  });
});
