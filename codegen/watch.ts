import { relative, sep } from 'node:path';
import { watch } from 'chokidar';
import type { GenConfig } from './config.js';

const ignoredDirectories = new Set(['node_modules', '.git', 'dist', 'coverage']);
const watchedFile = /\.[cm]?tsx?$|(^|[\\/])(tsconfig[^\\/]*\.json|package\.json)$/;
const quietPeriodMs = 150;

/** True for a changed file that can change the output: sources, tsconfig and package.json. */
export function isRelevantChange(config: GenConfig, file: string): boolean {
  const path = relative(config.root, file);
  if (path === relative(config.root, config.out)) return false;
  if (isIgnoredPath(config, file)) return false;
  return watchedFile.test(path);
}

function isIgnoredPath(config: GenConfig, file: string): boolean {
  return relative(config.root, file)
    .split(sep)
    .some((part) => ignoredDirectories.has(part));
}

/**
 * Calls `run` once the watcher sees every file, and again after each burst of relevant changes
 * under the project root. Runs never overlap: a change during a run schedules
 * one more run after it. chokidar follows files that editors and `sed -i` save by writing a new
 * file and renaming it over the old one, which a bare `fs.watch` loses track of.
 */
export async function watchProject(config: GenConfig, run: () => void): Promise<{ close(): Promise<void> }> {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, quietPeriodMs);
  };
  const watcher = watch(config.root, {
    ignoreInitial: true,
    ignored: (file) => isIgnoredPath(config, file),
  });
  watcher.on('all', (event, file) => {
    if (event !== 'addDir' && event !== 'unlinkDir' && isRelevantChange(config, file)) schedule();
  });
  await new Promise<void>((resolve, reject) => {
    watcher.once('ready', resolve);
    watcher.once('error', reject);
  });
  run(); // after ready: a change saved while it runs is seen
  return {
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
