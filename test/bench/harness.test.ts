import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { adminUrl } from '../support/databases.js';

// `npm run bench` end to end on a tiny job count, so that the benchmark code cannot rot: it builds
// Koban and the child scripts, runs every case in its own process, and prints the tables. It checks
// what each measurement reports, never how fast anything was.

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'koban-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function bench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: root,
    env: { ...process.env, BENCH_DATABASE_URL: adminUrl() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run bench', () => {
  it('measures Koban, the three ceiling variants and a scaling row', async () => {
    const json = join(scratch, 'results.json');
    const { code, stdout, stderr } = await bench([
      ...['--only', 'process,processes', '--systems', 'koban,ceiling'],
      ...['--jobs', '200', '--big', '0', '--reps', '1', '--scale-jobs', '200', '--processes', '2'],
      ...['--json', json],
    ]);
    expect(code, stderr).toBe(0);

    const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
      results: Record<string, ({ jobs: number; rate: number; nodeUs: number; dbUs: number } | null)[]>;
    };
    expect(Object.keys(results).sort()).toEqual([
      'process/ceiling@delete:2000#A',
      'process/ceiling@keep:2000#A',
      'process/ceiling@move:2000#A',
      'process/koban@2000#A',
      'processes/2 processes#A',
      'processes/plain#A',
    ]);
    for (const [key, [report]] of Object.entries(results)) {
      expect(report, key).toMatchObject({ jobs: 200 });
      for (const metric of ['rate', 'nodeUs', 'dbUs'] as const)
        expect(report![metric], `${key} ${metric}`).toBeGreaterThan(0);
    }
    expect(stdout).toContain('### process 200 no-op jobs (jobs/s)');
    expect(stdout).toMatch(/\| ceiling \(move, batch 2000\) +\| +[\d,]+ \|/);
    expect(stdout).toMatch(/\| process 200 jobs, N processes vs 1 +\| +2 processes \|/);
  }, 120_000);
});
