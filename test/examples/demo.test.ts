import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('npm run demo runs the example application on embedded PostgreSQL', async () => {
  const { stdout } = await run('npm', ['run', '--silent', 'demo'], { cwd: process.cwd(), timeout: 120_000 });
  expect(stdout).toContain('starting Koban on embedded PostgreSQL');
  expect(stdout).toMatch(/FlakyImportWorker#\d+ failed attempt 1/);
  expect(stdout).toMatch(/FlakyImportWorker#\d+ completed .*\(attempt 2\)/);
  expect(stdout).toMatch(/ReportWorker#\d+ snoozed/);
  expect(stdout).toMatch(/ObsoleteTaskWorker#\d+ cancelled/);
  expect(stdout).toMatch(/HeartbeatWorker#\d+ completed/);
  expect(stdout).toContain('done: ');
  expect(stdout).toMatch(/done: 6 completed, 1 cancelled, plus \d+ cron heartbeat/);
  expect(stdout).toContain('stopped');
}, 150_000);

it('the example application keeps its generated module fresh (npx gen --check)', async () => {
  const { stdout } = await run('npx', ['tsx', '../../codegen/bin.ts', '--check'], {
    cwd: `${process.cwd()}/examples/app`,
    timeout: 120_000,
  });
  expect(stdout).toMatch(/up to date/i);
}, 150_000);
