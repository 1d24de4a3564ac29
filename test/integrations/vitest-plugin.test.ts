import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { koban } from '../../integrations/vitest.js';

// The koban/vitest plugin compiles decorators before Vite's own transform. The consumer smoke
// test runs it under the Vite that npm installs today; this checks what it compiles and how.

const source = `import { type Job, Worker } from 'koban';

@Worker({ queue: 'plugin' })
export class PluginWorker {
  async process(job: Job<{ n: number }>): Promise<number> {
    return job.args.n;
  }
}
`;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A project directory with a tsconfig.json and one worker file; returns the file's path. */
async function projectWith(compilerOptions: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'koban-vitest-plugin-'));
  dirs.push(dir);
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions }));
  const file = join(dir, 'worker.ts');
  await writeFile(file, source);
  return file;
}

describe('koban/vitest', () => {
  it('compiles TC39 decorators and types away, with a source map of the original', async () => {
    const file = await projectWith({ target: 'es2022' });
    const result = await koban().transform(source, file);
    expect(result?.code).toContain('__decorateElement');
    expect(result?.code).not.toMatch(/^@Worker/m);
    expect(result?.code).not.toContain('Job<');
    expect(JSON.parse(result!.map).sourcesContent).toEqual([source]);
  });

  it('compiles legacy decorators where the tsconfig.json says experimentalDecorators', async () => {
    const file = await projectWith({ experimentalDecorators: true });
    const result = await koban().transform(source, file);
    expect(result?.code).toContain('__decorateClass');
  });

  it('leaves files without decorators, outside TypeScript, or in node_modules to Vite', async () => {
    const plugin = koban();
    expect(await plugin.transform('export const a = 1;\n', '/app/src/a.ts')).toBeNull();
    expect(await plugin.transform(source, '/app/src/worker.js')).toBeNull();
    expect(await plugin.transform(source, '/app/node_modules/lib/worker.ts')).toBeNull();
    expect(plugin).toMatchObject({ name: 'koban:decorators', enforce: 'pre' });
  });

  it('points embedded starts at a snapshot directory in the tests it configures, unless told not to', () => {
    expect(koban().config()).toEqual({
      test: { env: { KOBAN_PGLITE_SNAPSHOTS: join(process.cwd(), 'node_modules', '.cache', 'koban') } },
    });
    expect(koban({ snapshots: '/tmp/koban-snapshots' }).config()).toEqual({
      test: { env: { KOBAN_PGLITE_SNAPSHOTS: '/tmp/koban-snapshots' } },
    });
    expect(koban({ snapshots: false }).config()).toBeUndefined();
  });
});
