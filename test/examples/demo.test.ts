import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { freshDatabase } from '../support/databases.js';

// `npm run demo`, the README's first command: the whole seed on embedded PostgreSQL, and on the
// server when DATABASE_URL is set. It exits 0 only if each of its checks held.

const run = promisify(execFile);

/** The environment without the npm_* variables of the `npm test` that may be running us. */
function environment(databaseUrl?: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.toLowerCase().startsWith('npm_') && key !== 'DATABASE_URL',
    ),
  );
  return databaseUrl ? { ...env, DATABASE_URL: databaseUrl } : env;
}

function expectWholeSeed(stdout: string): void {
  expect(stdout).toContain('1. an import pipeline: extract → 3 transforms → merge → load');
  expect(stdout).toMatch(/appended step "audit" to the running workflow; it waits for "load" \(now held\)/);
  expect(stdout).toContain('callback ran: newsletter: handleCompleted (2 sent, 0 failed)');
  expect(stdout).toContain('callback ran: reminders: handleExhausted (1 sent, 1 failed)');
  expect(stdout).toMatch(/stored in the jobs table: \{"\$koban_encrypted":/);
  expect(stdout).toMatch(/first insert: job (\d+) \(conflict: false\); second: job \1 \(conflict: true\)/);
  expect(stdout).toMatch(/HeartbeatWorker +\d+/);
  expect(stdout).toContain('flowchart TD');
  expect(stdout).toContain('s5 --> s6');
  expect(stdout).toContain('all checks passed');
  expect(stdout).not.toContain('FAIL');
}

it('npm run demo runs the whole seed on embedded PostgreSQL and exits 0', async () => {
  const { stdout } = await run('npm', ['run', '--silent', 'demo'], { env: environment(), timeout: 120_000 });
  expect(stdout).toContain('starting Koban on embedded PostgreSQL (no server needed)');
  expectWholeSeed(stdout);
}, 150_000);

it('npm run demo runs on the server in DATABASE_URL', async () => {
  const { stdout } = await run('npm', ['run', '--silent', 'demo'], {
    env: environment(await freshDatabase({ migrated: false })),
    timeout: 120_000,
  });
  expect(stdout).toContain('starting Koban on the server in DATABASE_URL');
  expectWholeSeed(stdout);
}, 150_000);

it('the example application keeps its generated module fresh (npx gen --check)', async () => {
  const { stdout } = await run('npx', ['tsx', '../../codegen/bin.ts', '--check'], {
    cwd: `${process.cwd()}/examples/app`,
    timeout: 120_000,
  });
  expect(stdout).toMatch(/up to date/i);
}, 150_000);
