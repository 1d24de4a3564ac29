import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repo, tempProject } from './helpers.js';

// Built inside the repo so that the compiled bin finds ts-morph in node_modules, as it does when installed.
const outDir = join(repo, 'node_modules', '.cache', 'koban-codegen-bin-test');
const bin = join(outDir, 'codegen', 'bin.js');

describe('the gen bin, compiled as package.json declares it', () => {
  const project = tempProject({
    'src/workers/ping.ts': `import { type Job, Worker } from 'koban';

@Worker({ queue: 'pings' })
export class PingWorker {
  async process(job: Job<{ host: string }>): Promise<void> {
    console.log(job.args.host);
  }
}
`,
  });

  beforeAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    // The exit status is not checked: work in progress elsewhere in the repo may not type-check,
    // and tsc emits JavaScript regardless. What matters here is that the bin runs.
    spawnSync(
      join(repo, 'node_modules', '.bin', 'tsc'),
      ['-p', join(repo, 'tsconfig.build.json'), '--outDir', outDir],
      {
        encoding: 'utf8',
      },
    );
  });
  afterAll(() => {
    project.remove();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('starts with a node shebang', () => {
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints help and generates a project with plain node', () => {
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: npx gen');
    const run = spawnSync(process.execPath, [bin], { cwd: project.root, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('wrote src/koban.gen.ts (1 worker)\n');
    expect(existsSync(join(project.root, 'src', 'koban.gen.ts'))).toBe(true);
    const check = spawnSync(process.execPath, [bin, '--check'], { cwd: project.root, encoding: 'utf8' });
    expect(check.status).toBe(0);
  });

  it('is the only compiled code that loads ts-morph or codegen', () => {
    const compiled = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.js') && !file.startsWith(`codegen${sep}`),
    );
    expect(compiled).toContain('index.js');
    for (const file of compiled) {
      expect(readFileSync(join(outDir, file), 'utf8'), file).not.toMatch(
        /from ['"](ts-morph|[./]*codegen\/)/,
      );
    }
  });
});
