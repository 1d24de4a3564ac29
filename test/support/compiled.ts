import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles the package as `npm run build` does into a folder of node_modules (so that the
 * compiled code finds its dependencies, as when installed), for tests that run the bins under
 * plain node. Each caller names its own folder (test files run at once), made unique by the
 * process: worktrees may share one node_modules, and so one cache.
 */
export function compilePackage(name: string): string {
  const outDir = join(repo, 'node_modules', '.cache', `${name}-${process.pid}`);
  rmSync(outDir, { recursive: true, force: true });
  // The exit status is not checked: tsc emits JavaScript even when work elsewhere does not type-check.
  spawnSync(
    join(repo, 'node_modules', '.bin', 'tsc'),
    ['-p', join(repo, 'tsconfig.build.json'), '--outDir', outDir],
    {
      encoding: 'utf8',
    },
  );
  if (existsSync(join(repo, 'web', 'assets'))) {
    cpSync(join(repo, 'web', 'assets'), join(outDir, 'web', 'assets'), { recursive: true });
  }
  return outDir;
}
