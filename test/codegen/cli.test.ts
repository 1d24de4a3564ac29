import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../codegen/cli.js';
import { unifiedDiff } from '../../codegen/diff.js';
import { repo, runGen, tempProject, tempTsconfig, typecheck } from './helpers.js';

const importWorker = (argsType: string) => `import { type Job, Worker } from 'koban';

@Worker({ queue: 'imports' })
export class ImportWorker {
  async process(job: Job<${argsType}>): Promise<void> {
    console.log(job.args);
  }
}
`;

const projects: { remove(): void }[] = [];
function project(files: Record<string, string>) {
  const created = tempProject(files);
  projects.push(created);
  return created;
}
afterEach(() => {
  for (const created of projects.splice(0)) created.remove();
});

describe('npx gen', () => {
  it('writes src/koban.gen.ts beside tsconfig.json, from a subdirectory too', async () => {
    const { root } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    const first = await runGen(join(root, 'src', 'workers'));
    expect(first).toMatchObject({ code: 0, stdout: 'wrote src/koban.gen.ts (1 worker)\n' });
    const text = readFileSync(join(root, 'src', 'koban.gen.ts'), 'utf8');
    expect(text).toContain("import { ImportWorker as ImportWorkerClass } from './workers/import.js';");
    expect(await runGen(root)).toMatchObject({
      code: 0,
      stdout: 'up to date: src/koban.gen.ts (1 worker)\n',
    });
  });

  it('--check passes on a fresh output and fails with a diff after an args type changes', async () => {
    const { root, write } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    expect((await runGen(root)).code).toBe(0);
    expect(await runGen(root, ['--check'])).toMatchObject({
      code: 0,
      stdout: 'src/koban.gen.ts is up to date\n',
    });

    write('src/workers/import.ts', importWorker('{ importId: string }'));
    const stale = await runGen(root, ['--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('--- src/koban.gen.ts (on disk)\n+++ src/koban.gen.ts (npx gen)\n@@ ');
    const changedLine = (check: string) =>
      `  else output['importId'] = ${check}(input['importId'], \`\${path}.importId\`, issues);`;
    expect(stale.stderr).toContain(`-${changedLine('checkNumber')}`);
    expect(stale.stderr).toContain(`+${changedLine('checkString')}`);
    expect(stale.stderr).toContain('src/koban.gen.ts is stale: run npx gen and commit the result');
    expect(readFileSync(join(root, 'src', 'koban.gen.ts'), 'utf8')).toContain('checkNumber(input');
  });

  it('writes an empty registry for a project without workers', async () => {
    const { root } = project({ 'src/app.ts': 'export const answer = 42;\n' });
    expect((await runGen(root)).stdout).toBe('wrote src/koban.gen.ts (0 workers)\n');
    const text = readFileSync(join(root, 'src', 'koban.gen.ts'), 'utf8');
    expect(text).toContain('export const workers: readonly WorkerEntry[] = [];');
    expect(text).toContain('export const fixtures = {};');
  });

  it('--check fails when the file was never generated', async () => {
    const { root } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    const result = await runGen(root, ['--check']);
    expect(result.code).toBe(1);
    expect(existsSync(join(root, 'src', 'koban.gen.ts'))).toBe(false);
  });

  it('takes the output from --out, else from the koban section of package.json', async () => {
    const { root, write } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    write('package.json', JSON.stringify({ name: 'app', koban: { out: 'src/jobs/generated.ts' } }));
    expect((await runGen(root)).stdout).toBe('wrote src/jobs/generated.ts (1 worker)\n');
    expect(readFileSync(join(root, 'src', 'jobs', 'generated.ts'), 'utf8')).toContain(
      "from '../workers/import.js';",
    );
    expect((await runGen(root, ['--out', 'lib/koban.gen.ts'])).stdout).toBe(
      'wrote lib/koban.gen.ts (1 worker)\n',
    );
    expect(readFileSync(join(root, 'lib', 'koban.gen.ts'), 'utf8')).toContain(
      "from '../src/workers/import.js';",
    );
  });

  it('writes imports without extensions for bundler resolution', async () => {
    const { root, write } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
    tsconfig.compilerOptions.module = 'ESNext';
    tsconfig.compilerOptions.moduleResolution = 'Bundler';
    write('tsconfig.json', JSON.stringify(tsconfig));
    await runGen(root);
    expect(readFileSync(join(root, 'src', 'koban.gen.ts'), 'utf8')).toContain("from './workers/import';");
  });

  it('explains itself with --help, and exits 2 on bad usage or a missing tsconfig.json', async () => {
    const help = await runGen('/', ['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--out', '--check', '--watch', '"koban"']) expect(help.stdout).toContain(flag);
    const unknown = await runGen('/', ['--verify']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/npx gen: .*--verify[\s\S]*Usage: npx gen/);
    const nowhere = await runGen('/', []);
    expect(nowhere).toMatchObject({ code: 2 });
    expect(nowhere.stderr).toContain('no tsconfig.json in / or above it');
    expect((await runGen('/', ['--check', '--watch'])).stderr).toContain('give --check or --watch, not both');
  });

  it('--watch regenerates when a worker changes, until stopped', async () => {
    const { root, write } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    const out = join(root, 'src', 'koban.gen.ts');
    const { output, stop, running } = watch(root);
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('checkNumber(input'));
    write('src/workers/import.ts', importWorker('{ importId: string }'));
    await waitFor(() => readFileSync(out, 'utf8').includes("checkString(input['importId']"));
    stop();
    expect(await running).toBe(0);
    expect(output()).toContain('watching for changes');
  });
});

describe('a stale generated module', () => {
  it('fails tsc at the generated file once a worker gains, loses or renames an arg', async () => {
    const { root, write } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    const types = { types: ['node'], typeRoots: [join(repo, 'node_modules', '@types')] };
    write('tsconfig.json', JSON.stringify(tempTsconfig(types)));
    expect((await runGen(root)).code).toBe(0);
    const tsconfig = join(root, 'tsconfig.json');
    expect(typecheck(tsconfig)).toEqual({ status: 0, output: '' });

    write('src/workers/import.ts', importWorker('{ importId: number; force: boolean }'));
    const stale = typecheck(tsconfig);
    expect(stale.status).not.toBe(0);
    expect(stale.output).toMatch(/src\/koban\.gen\.ts\(\d+,\d+\): error TS1360/);
    const line = Number(/koban\.gen\.ts\((\d+),/.exec(stale.output)![1]);
    const generated = readFileSync(join(root, 'src', 'koban.gen.ts'), 'utf8').split('\n');
    expect(generated[line - 2]).toContain(
      "ImportWorker's args keys differ from this file's: run `npx gen` again",
    );

    expect((await runGen(root)).code).toBe(0);
    expect(typecheck(tsconfig)).toEqual({ status: 0, output: '' });
  });
});

describe('gen and the tsconfig target', () => {
  it('warns, with the fix, when target esnext would leave decorators that Node cannot run', async () => {
    const { root, write } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    write('tsconfig.json', JSON.stringify(tempTsconfig({ target: 'ESNext' })));
    const esnext = await runGen(root);
    expect(esnext.code).toBe(0);
    expect(esnext.stderr).toBe(
      'warning: tsconfig.json: "target": "esnext" leaves decorators in the compiled JavaScript as written, ' +
        'and Node cannot run them yet (SyntaxError: Invalid or unexpected token). Set "target" to "es2022" ' +
        '(any of es2022 to es2024) in compilerOptions.\n',
    );
    expect((await runGen(root, ['--check'])).stderr).toContain('"target": "esnext"');

    write('tsconfig.json', JSON.stringify(tempTsconfig({ target: 'ESNext', experimentalDecorators: true })));
    expect((await runGen(root)).stderr).toBe('');
    write('tsconfig.json', JSON.stringify(tempTsconfig({ target: 'ES2022' })));
    expect((await runGen(root)).stderr).toBe('');
  });
});

describe('gen --watch and atomic saves', () => {
  it('keeps seeing a worker file that an editor or sed -i saved by rename', async () => {
    const { root } = project({ 'src/workers/import.ts': importWorker('{ importId: number }') });
    const out = join(root, 'src', 'koban.gen.ts');
    const file = join(root, 'src', 'workers', 'import.ts');
    /** What `sed -i` and atomic-saving editors do: write a new file beside it, rename it over. */
    const saveByRename = (text: string) => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    const { output, stop, running } = watch(root);
    await waitFor(() => output().includes('watching for changes'));
    saveByRename(importWorker('{ importId: string }'));
    await waitFor(() => readFileSync(out, 'utf8').includes("checkString(input['importId']"));
    saveByRename(importWorker('{ importId: boolean }'));
    await waitFor(() => readFileSync(out, 'utf8').includes("checkBoolean(input['importId']"));
    writeFileSync(file, importWorker('{ importId: number }'));
    await waitFor(() => readFileSync(out, 'utf8').includes("checkNumber(input['importId']"));
    stop();
    expect(await running).toBe(0);
  });
});

/** Runs `gen --watch` in `root` until `stop()`; `output()` is what it printed so far. */
function watch(root: string) {
  let stop = () => {};
  const stopSignal = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let printed = '';
  const write = (text: string) => (printed += text);
  const running = main(['--watch'], { cwd: root, stdout: { write }, stderr: { write }, stopSignal });
  return { output: () => printed, stop, running };
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('unifiedDiff', () => {
  it('shows the changed lines with three lines of context, in separate hunks when far apart', () => {
    const lines = 'abcdefghijklmn'.split('');
    const before = lines.join('\n');
    const after = [...lines.slice(0, 3), 'D', ...lines.slice(4), 'o'].join('\n');
    const expected = [
      '--- old',
      '+++ new',
      '@@ -1,7 +1,7 @@',
      ' a',
      ' b',
      ' c',
      '-d',
      '+D',
      ' e',
      ' f',
      ' g',
    ];
    expected.push('@@ -12,3 +12,4 @@', ' l', ' m', ' n', '+o', '');
    expect(unifiedDiff(before, after, 'old', 'new')).toBe(expected.join('\n'));
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff('x\n', 'x\n', 'a', 'b')).toBe('');
  });
});
