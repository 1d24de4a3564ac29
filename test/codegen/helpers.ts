import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../codegen/cli.js';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const casesDir = join(repo, 'test', 'codegen', 'cases');

/** The compiler options of temp projects: strict, with koban's sdk found by absolute path. */
export function tempTsconfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      types: [],
      noEmit: true,
      paths: { koban: [join(repo, 'sdk', 'index.ts')] },
      ...extra,
    },
    include: ['src'],
  };
}

/** A project in a fresh temp directory; files are paths relative to it. Call `remove` when done. */
export function tempProject(files: Record<string, string>): {
  root: string;
  write(path: string, text: string): void;
  remove(): void;
} {
  const root = mkdtempSync(join(tmpdir(), 'koban-gen-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('tsconfig.json', JSON.stringify(tempTsconfig(), null, 2));
  for (const [path, text] of Object.entries(files)) write(path, text);
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Runs the gen command in-process, capturing what it prints. */
export async function runGen(
  cwd: string,
  args: readonly string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    cwd,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/** Type-checks a project with the repo's TypeScript (`tsc`), returning its exit status and output. */
export function typecheck(
  tsconfig: string,
  flags: readonly string[] = ['--noEmit'],
): { status: number | null; output: string } {
  const result = spawnSync(join(repo, 'node_modules', '.bin', 'tsc'), [...flags, '-p', tsconfig], {
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `path: message` lines of a KobanValidationError, or a failure when `run` does not throw one. */
export function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    const issues = (error as { issues?: readonly { path: string; message: string }[] }).issues;
    if (!issues) throw error;
    return issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error('expected a KobanValidationError, but nothing was thrown');
}
