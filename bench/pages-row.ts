// `npm run bench -- --only pages`: bench/dashboard-pages.ts in a child process of its own, on a
// scratch database of the bench server; its table is returned for the run's output.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Config } from './flags.js';

export function runPagesRow(
  config: Config,
  root: string,
  baseUrl: string,
  progress: (message: string) => void,
): Promise<string> {
  const args = [
    '--import',
    'tsx',
    join(root, 'bench', 'dashboard-pages.ts'),
    '--rows',
    String(config.pagesRows),
    '--reps',
    String(config.pagesReps),
    '--database',
    baseUrl,
  ];
  progress(`pages: the dashboard's pages on ${config.pagesRows.toLocaleString('en-US')} jobs`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      progress(`  ${chunk.toString('utf8').trimEnd().replaceAll('\n', '\n  ')}`);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`bench/dashboard-pages.ts exited with ${code}`)),
    );
  });
}
