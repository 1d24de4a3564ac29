import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The sdk's decorators must work however the user's tsc compiles them: TC39 standard decorators
// (the default) or legacy `experimentalDecorators`. This compiles a fixture that imports the sdk
// sources with the real tsc in both modes, runs the output with node and reads what the
// registry holds. Vitest's own transform is not enough: it only ever uses one mode.

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const tscEntry = join(repo, 'node_modules/typescript/bin/tsc');
const fixture = join(repo, 'test/sdk/fixtures/decorated-workers.ts');
const emitted = 'test/sdk/fixtures/decorated-workers.js';

const flavours = {
  standard: { options: {}, helper: '__esDecorate(' },
  legacy: { options: { experimentalDecorators: true, emitDecoratorMetadata: true }, helper: '__decorate(' },
} as const;
type Flavour = keyof typeof flavours;

interface Compiled {
  readonly js: string;
  readonly report: Report;
}

interface Report {
  definitions: Record<string, unknown>[];
  registry: [string, string][];
  sameClasses: boolean;
  staticKept: string;
  processed: number;
  badPriority: { name: string; code: string; message: string } | null;
  duplicate: { name: string; code: string; message: string } | null;
}

const dirs: string[] = [];
/** Each flavour's outcome; a failure is kept so that only that flavour's tests fail, with its output. */
const compiled = new Map<Flavour, Compiled | Error>();

async function compileAndRun(flavour: Flavour): Promise<Compiled> {
  const dir = await mkdtemp(join(tmpdir(), `koban-decorators-${flavour}-`));
  dirs.push(dir);
  const outDir = join(dir, 'out');
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(repo, 'node_modules/@types')],
      rootDir: repo,
      outDir,
      ...flavours[flavour].options,
    },
    files: [fixture],
  };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  try {
    await run(process.execPath, [tscEntry, '-p', join(dir, 'tsconfig.json')], { cwd: dir });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc (${flavour} decorators) failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  // The emitted sdk imports reflect-metadata: let node find the repo's packages from the temp dir.
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(join(repo, 'node_modules'), join(outDir, 'node_modules'), 'dir');

  const js = await readFile(join(outDir, emitted), 'utf8');
  try {
    const { stdout } = await run(process.execPath, [join(outDir, emitted)], { cwd: dir });
    return { js, report: JSON.parse(stdout) as Report };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`the ${flavour} build of the fixture failed when run:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

function outcome(flavour: Flavour): Compiled {
  const value = compiled.get(flavour);
  if (value === undefined) throw new Error(`the ${flavour} compilation did not run`);
  if (value instanceof Error) throw value;
  return value;
}

beforeAll(async () => {
  await Promise.all(
    (Object.keys(flavours) as Flavour[]).map(async (flavour) => {
      compiled.set(
        flavour,
        await compileAndRun(flavour).catch((error: unknown) =>
          error instanceof Error ? error : new Error(String(error)),
        ),
      );
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const expectedDefinitions = [
  {
    name: 'ImportWorker',
    className: 'ImportWorker',
    queue: 'imports',
    maxAttempts: 5,
    priority: 0,
    tags: [],
    unique: { period: 60, states: 'incomplete' },
    weight: 1,
  },
  {
    name: 'pipelines.extract',
    className: 'ExtractWorker',
    queue: 'pipelines',
    maxAttempts: 20,
    priority: 0,
    tags: ['etl'],
    recorded: {},
    weight: 1,
  },
  {
    name: 'AuditWorker',
    className: 'AuditWorker',
    queue: 'secure',
    maxAttempts: 20,
    priority: 9,
    tags: [],
    timeout: 5_000,
    structured: { keys: ['userId', 'action', 'metadata'], required: ['userId', 'action'] },
    encrypted: { key: 'function' },
    weight: 1,
  },
];

describe.each(Object.keys(flavours) as Flavour[])('tsc with %s decorators', (flavour) => {
  const result = () => outcome(flavour);

  it('emits that flavour of decorator code', () => {
    expect(result().js).toContain(flavours[flavour].helper);
  });

  it('registers every decorated class with its options, whatever the decorator order', () => {
    const { report } = result();
    expect(report.definitions).toEqual(expectedDefinitions);
    // Koban's own cascade worker is registered by the package itself.
    expect(report.registry.filter(([name]: string[]) => name !== 'koban.cascade')).toEqual([
      ['ImportWorker', 'ImportWorker'],
      ['pipelines.extract', 'ExtractWorker'],
      ['AuditWorker', 'AuditWorker'],
    ]);
    expect(report.sameClasses).toBe(true);
  });

  it('leaves the class usable: statics and process work', () => {
    expect(result().report.staticKept).toBe('audit');
    expect(result().report.processed).toBe(42);
  });

  it('reports bad options and duplicate names as KobanConfigError', () => {
    const { badPriority, duplicate } = result().report;
    expect(badPriority).toEqual({
      name: 'KobanConfigError',
      code: 'config',
      message: 'worker BadPriority: priority must be an integer from 0 to 9, got 12',
    });
    expect(duplicate).toMatchObject({ name: 'KobanConfigError', code: 'config' });
    expect(duplicate?.message).toContain(
      'worker ExtractAgain: the worker name "pipelines.extract" is already taken',
    );
  });
});

it('gives the same registry under both flavours', () => {
  expect(outcome('legacy').report).toEqual(outcome('standard').report);
});
