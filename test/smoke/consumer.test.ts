import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJsonLine } from '../support/output.js';

// The package as a newcomer gets it: `npm pack` (which builds dist/ through prepack), installed
// into an empty project next to the newest TypeScript, compiled with that project's own tsc, run
// with plain node. Catches broken exports, files missing from the tarball, declarations that do
// not compile outside the repo, and a bin that only works inside it. The project is set up as
// the README says: its tsconfig.json is the README's, every TypeScript block of the README
// compiles in it, and vitest (as npm installs it today, with no pins) runs the README's test.

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** The environment without the npm_* variables of the `npm test` that may be running us. */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.toLowerCase().startsWith('npm_') && key !== 'DATABASE_URL',
  ),
);

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

async function run(command: string, args: readonly string[], cwd: string, timeout = 200_000): Promise<Ran> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd,
      env,
      timeout,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (error) {
    const { stdout, stderr, killed } = error as { stdout?: string; stderr?: string; killed?: boolean };
    const why = killed ? `did not finish within ${timeout / 1000} s` : 'failed';
    throw new Error(`\`${command} ${args.join(' ')}\` in ${cwd} ${why}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The fenced blocks of a markdown text in a language, in order. */
function fencedBlocks(markdown: string, language: string): string[] {
  const pattern = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...markdown.matchAll(pattern)].map((match) => match[1]!);
}

/** The README's tsconfig.json: what `tsc --init` writes, with its Node lines on and a runnable target. */
function readmeTsconfig(readme: string): unknown {
  const block = fencedBlocks(readme, 'json').find((text) => text.includes('"compilerOptions"'));
  if (!block) throw new Error('the README shows no tsconfig.json');
  return JSON.parse(block);
}

/** Where a README block goes: the path in its first-line comment (`// src/main.ts`), else its own file. */
function readmeBlockPath(block: string, index: number): string {
  return /^\/\/ ([\w./-]+\.ts)\n/.exec(block)?.[1] ?? `src/readme/block-${index + 1}.ts`;
}

const workersSource = `import { type Job, Worker } from 'koban';

export const greeted: string[] = [];

@Worker({ queue: 'default' })
export class Hello {
  async process(job: Job<{ name: string }>): Promise<{ greeting: string }> {
    greeted.push(job.args.name);
    return { greeting: \`hello \${job.args.name}\` };
  }
}
`;

// A deadline only so that a broken build fails instead of hanging; nothing measures time.
const waitSource = `import type { Koban, JobRecord } from 'koban';

export async function waitForCompletion(koban: Koban, id: string): Promise<JobRecord | null> {
  const deadline = Date.now() + 60_000;
  let job = await koban.getJob(id);
  while (job !== null && job.state !== 'completed' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    job = await koban.getJob(id);
  }
  return job;
}
`;

const mainSource = `import { Koban, newJob } from 'koban';
import { waitForCompletion } from './wait.js';
import { greeted, Hello } from './workers.js';

const koban = await Koban.start({ queues: { default: 5 }, workers: [Hello] });
try {
  const inserted = await koban.insert(newJob(Hello, { name: 'newcomer' }));
  const job = await waitForCompletion(koban, inserted.id);
  console.log(
    JSON.stringify({
      inserted: { worker: inserted.worker, queue: inserted.queue, state: inserted.state, args: inserted.args },
      final: job && { state: job.state, attempt: job.attempt, errors: job.errors },
      greeted,
    }),
  );
} finally {
  await koban.stop();
}
`;

/** Written after \`npx gen\` has made src/koban.gen.ts: the documented path, through the builders. */
const generatedMainSource = `import { Koban, KobanValidationError } from 'koban';
import { Hello, workers } from './koban.gen.js';
import { waitForCompletion } from './wait.js';
import { greeted } from './workers.js';

let rejected = '';
try {
  Hello.new({ name: 42 } as unknown as { name: string });
} catch (error) {
  if (error instanceof KobanValidationError) rejected = error.message;
}

const koban = await Koban.start({ queues: { default: 5 }, workers });
try {
  const inserted = await koban.insert(Hello.new({ name: 'builder' }));
  const job = await waitForCompletion(koban, inserted.id);
  console.log(JSON.stringify({ rejected, final: job?.state, greeted }));
} finally {
  await koban.stop();
}
`;

// Loaded with \`node --import\`: fails any import of codegen's heavy dependencies, which only the
// gen bin may load.
const guardSource = `import { register } from 'node:module';
register('./no-codegen-hooks.mjs', import.meta.url);
`;
const hooksSource = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (/\\/node_modules\\/(ts-morph|typescript)\\//.test(resolved.url)) {
    throw new Error(\`importing koban loaded \${resolved.url} (from \${context.parentURL}); only the gen bin may\`);
  }
  return resolved;
}
`;

let work = '';
let project = '';
let readme = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'koban-consumer-'));
  project = join(work, 'app');
  await mkdir(join(project, 'src'), { recursive: true });

  // npm pack runs prepack (the build): dist/ comes from this run, not from whatever is lying around.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], repo);
  const listing = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as { filename: string }[];
  const tarball = join(work, listing[0]!.filename);

  await writeFile(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'koban-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  await run(
    'npm',
    [
      'install',
      tarball,
      'typescript@latest',
      '@types/node@20',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ],
    project,
  );
  readme = await readFile(join(project, 'node_modules/koban/README.md'), 'utf8');
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(readmeTsconfig(readme), null, 2));
  await writeFile(join(project, 'src/workers.ts'), workersSource);
  await writeFile(join(project, 'src/wait.ts'), waitSource);
  await writeFile(join(project, 'src/main.ts'), mainSource);
  await writeFile(join(project, 'guard.mjs'), guardSource);
  await writeFile(join(project, 'no-codegen-hooks.mjs'), hooksSource);
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  it('ships a manifest whose exports and bin point at files in the tarball', async () => {
    const installed = join(project, 'node_modules/koban');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string } | string>;
      bin: Record<string, string>;
    };
    const targets = Object.values(manifest.exports).flatMap((entry) =>
      typeof entry === 'string' ? [entry] : [entry.types, entry.default],
    );
    const missing: string[] = [];
    for (const target of [...targets, ...Object.values(manifest.bin)]) {
      await access(join(installed, target)).catch(() => missing.push(target));
    }
    expect(missing, 'files named in package.json but missing from the tarball').toEqual([]);
  });

  it('ships a LICENSE, and source maps whose sources are inside them', async () => {
    const installed = join(project, 'node_modules/koban');
    expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toContain('MIT License');
    const maps = (await readdir(join(installed, 'dist'), { recursive: true })).filter((file) =>
      file.endsWith('.js.map'),
    );
    expect(maps.length).toBeGreaterThan(20);
    const pointingNowhere: string[] = [];
    for (const file of maps) {
      const map = JSON.parse(await readFile(join(installed, 'dist', file), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      map.sources.forEach((source, index) => {
        if (typeof map.sourcesContent?.[index] === 'string') return;
        pointingNowhere.push(`${file}: ${source}`);
      });
    }
    expect(pointingNowhere).toEqual([]);
  });

  it('installs without ts-morph, PGlite or esbuild, and says what to install when they are needed', async () => {
    const installed = async (name: string) =>
      access(join(project, 'node_modules', name)).then(
        () => true,
        () => false,
      );
    expect({
      tsMorph: await installed('ts-morph'),
      pglite: await installed('@electric-sql/pglite'),
      esbuild: await installed('esbuild'),
    }).toEqual({ tsMorph: false, pglite: false, esbuild: false });

    // Importing koban, or koban/testing, needs none of them.
    await run(
      process.execPath,
      ['--input-type=module', '-e', "await import('koban'); await import('koban/testing');"],
      project,
    );
    const gen = await run('npx', ['--no-install', 'gen', '--help'], project, 60_000).then(
      () => 'ran',
      (error: Error) => error.message,
    );
    expect(gen).toContain('npx gen needs ts-morph, which is not installed');
    expect(gen).toContain('Run `npm install -D ts-morph`');

    await run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], project);
    const embedded = await run(process.execPath, ['dist/main.js'], project, 60_000).then(
      () => 'ran',
      (error: Error) => error.message,
    );
    expect(embedded).toContain(
      'KobanConfigError: Koban.start without a database (embedded PostgreSQL) needs @electric-sql/pglite, ' +
        'which is not installed. Run `npm install @electric-sql/pglite`',
    );

    // As the README says: the optional peers that this project uses.
    await run(
      'npm',
      ['install', '@electric-sql/pglite', '--no-audit', '--no-fund', '--prefer-offline'],
      project,
    );
    await run('npm', ['install', '-D', 'ts-morph', '--no-audit', '--no-fund', '--prefer-offline'], project);
  }, 300_000);

  it('compiles a decorated worker with the project tsc and runs a job on embedded PGlite', async () => {
    await run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], project);
    const { stdout } = await run(
      process.execPath,
      ['--import', './guard.mjs', 'dist/main.js'],
      project,
      120_000,
    );
    const report = JSON.parse(lastJsonLine(stdout)) as {
      inserted: { worker: string; queue: string; state: string; args: unknown };
      final: { state: string; attempt: number; errors: unknown[] } | null;
      greeted: string[];
    };
    expect(report.inserted).toEqual({
      worker: 'Hello',
      queue: 'default',
      state: 'available',
      args: { name: 'newcomer' },
    });
    expect(report.final).toEqual({ state: 'completed', attempt: 1, errors: [] });
    expect(report.greeted).toEqual(['newcomer']);
  }, 240_000);

  it('exposes koban/testing', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "console.log(Object.keys(await import('koban/testing')).sort().join(','))",
      ],
      project,
    );
    expect(stdout.trim().split(',')).toEqual(
      expect.arrayContaining(['assertEnqueued', 'drainJobs', 'performJob']),
    );
  });

  it('runs `npx gen --help` from the installed bin', async () => {
    // --no-install: never fetch some other package named gen from the registry.
    const { stdout } = await run('npx', ['--no-install', 'gen', '--help'], project, 60_000);
    expect(stdout).toMatch(/usage/i);
    expect(stdout).toContain('--check');
  }, 120_000);

  it('generates builders with `npx gen` that compile in the project and run its jobs', async () => {
    const generated = await run('npx', ['--no-install', 'gen'], project, 120_000);
    expect(generated.stdout).toContain('src/koban.gen.ts');
    await run('npx', ['--no-install', 'gen', '--check'], project, 120_000);

    await writeFile(join(project, 'src/generated.ts'), generatedMainSource);
    await run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], project);
    const { stdout } = await run(
      process.execPath,
      ['--import', './guard.mjs', 'dist/generated.js'],
      project,
      120_000,
    );
    expect(JSON.parse(lastJsonLine(stdout))).toEqual({
      rejected: 'args.name: expected string, got number (Hello)',
      final: 'completed',
      greeted: ['builder'],
    });
  }, 240_000);

  it('does not let a stale generated module pass silently: tsc fails on new args, start warns on new options', async () => {
    const tsc = join(project, 'node_modules/.bin/tsc');
    const original = await readFile(join(project, 'src/workers.ts'), 'utf8');
    try {
      // A new arg: the generated module no longer compiles, and says why where it fails.
      await writeFile(
        join(project, 'src/workers.ts'),
        original.replace('Job<{ name: string }>', 'Job<{ name: string; loud: boolean }>'),
      );
      const failed = await run(tsc, ['-p', '.'], project).then(
        () => 'compiled',
        (error: Error) => error.message,
      );
      expect(failed).toMatch(/src\/koban\.gen\.ts\(\d+,\d+\): error TS1360/);

      // New @Structured lists with the same args: it compiles, and Koban.start warns.
      await writeFile(
        join(project, 'src/workers.ts'),
        original
          .replace(
            "import { type Job, Worker } from 'koban';",
            "import { type Job, Structured, Worker } from 'koban';",
          )
          .replace(
            "@Worker({ queue: 'default' })",
            "@Worker({ queue: 'default' })\n@Structured({ required: ['name'] })",
          ),
      );
      await run(tsc, ['-p', '.'], project);
      const { stdout, stderr } = await run(process.execPath, ['dist/generated.js'], project, 120_000);
      expect(JSON.parse(lastJsonLine(stdout))).toMatchObject({ final: 'completed' });
      expect(stderr).toContain('the generated module (npx gen) is stale for Hello');

      await run('npx', ['--no-install', 'gen'], project, 120_000);
      await run(tsc, ['-p', '.'], project);
      const fresh = await run(process.execPath, ['dist/generated.js'], project, 120_000);
      expect(fresh.stderr).not.toContain('stale');
    } finally {
      await writeFile(join(project, 'src/workers.ts'), original);
      await run('npx', ['--no-install', 'gen'], project, 120_000);
    }
  }, 300_000);

  it('runs the README test of a decorated worker with the vitest npm installs today, through koban/vitest', async () => {
    // No pins: whatever vitest 4 (the last for Node 20) and its Vite resolve to now.
    await run('npm', ['install', '-D', 'vitest@4', '--no-audit', '--no-fund'], project);
    const vite = JSON.parse(await readFile(join(project, 'node_modules/vite/package.json'), 'utf8')) as {
      version: string;
    };
    expect(Number(vite.version.split('.')[0])).toBeGreaterThanOrEqual(8); // the Vite that broke decorators

    const blocks = fencedBlocks(readme, 'ts');
    const config = blocks.find((block) => block.startsWith('// vitest.config.ts\n'));
    const worker = blocks.find((block) => block.startsWith('// src/workers/greet.ts\n'));
    const test = blocks.find((block) => block.startsWith('// src/workers/greet.test.ts\n'));
    expect(config, 'the README shows a vitest.config.ts').toBeDefined();
    expect(worker && test, 'the README shows a worker and its test').toBeDefined();
    await writeFile(join(project, 'vitest.config.ts'), config!);
    await mkdir(join(project, 'src/workers'), { recursive: true });
    await writeFile(join(project, 'src/workers/greet.ts'), worker!);
    await writeFile(join(project, 'src/workers/greet.test.ts'), test!);
    const vitest = ['--no-install', 'vitest', 'run', 'src/workers/greet.test.ts'];
    const withoutEsbuild = await run('npx', vitest, project, 180_000).then(
      () => 'passed',
      (error: Error) => error.message,
    );
    expect(withoutEsbuild).toContain(
      'koban/vitest compiles decorators with esbuild, which is not installed. Run `npm install -D esbuild`',
    );
    await run('npm', ['install', '-D', 'esbuild', '--no-audit', '--no-fund'], project);
    const { stdout } = await run('npx', vitest, project, 180_000);
    const plain = stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    expect(plain).toMatch(/Tests\s+1 passed/);
    // The plugin had the embedded start keep its snapshot for the next test files.
    const cached = await readdir(join(project, 'node_modules/.cache/koban'));
    expect(cached).toEqual([expect.stringMatching(/^pglite-.*-koban\.tar$/)]);
  }, 300_000);

  it('compiles every TypeScript block of the README under its own tsconfig.json', async () => {
    const docs = join(work, 'readme');
    await mkdir(docs, { recursive: true });
    await symlink(join(project, 'node_modules'), join(docs, 'node_modules'), 'dir');
    await writeFile(join(docs, 'package.json'), '{ "name": "readme", "private": true, "type": "module" }\n');
    await writeFile(join(docs, 'tsconfig.json'), JSON.stringify(readmeTsconfig(readme), null, 2));
    const blocks = fencedBlocks(readme, 'ts');
    expect(blocks.length).toBeGreaterThan(8);
    const written: string[] = [];
    for (const [index, block] of blocks.entries()) {
      const path = readmeBlockPath(block, index);
      expect(written, `two README blocks are both ${path}`).not.toContain(path);
      written.push(path);
      await mkdir(join(docs, dirname(path)), { recursive: true });
      await writeFile(join(docs, path), block);
    }
    await run('npx', ['--no-install', 'gen'], docs, 120_000);
    await run(join(project, 'node_modules/.bin/tsc'), ['-p', '.', '--noEmit'], docs);
    // Blocks outside src/ (vitest.config.ts), under the same options.
    const outside = written.filter((path) => !path.startsWith('src/'));
    expect(outside).toEqual(['vitest.config.ts']);
    const tools = {
      extends: './tsconfig.json',
      compilerOptions: { rootDir: '.', noEmit: true },
      include: outside,
    };
    await writeFile(join(docs, 'tsconfig.tools.json'), JSON.stringify(tools));
    await run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.tools.json'], docs);
  }, 240_000);
});
