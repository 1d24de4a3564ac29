import { type FSWatcher, watch } from 'node:fs';
import { relative, sep } from 'node:path';
import type { GenConfig } from './config.js';

const ignoredDirectories = new Set(['node_modules', '.git', 'dist', 'coverage']);
const watchedFile = /\.[cm]?tsx?$|(^|[\\/])(tsconfig[^\\/]*\.json|package\.json)$/;
const quietPeriodMs = 150;

/** True for a changed file that can change the output: sources, tsconfig and package.json. */
export function isRelevantChange(config: GenConfig, file: string): boolean {
  const path = relative(config.root, file);
  if (path === relative(config.root, config.out)) return false;
  if (path.split(sep).some((part) => ignoredDirectories.has(part))) return false;
  return watchedFile.test(path);
}

/**
 * Calls `run` once now and again after each burst of relevant changes under the project root.
 * Runs never overlap: a change during a run schedules one more run after it.
 */
export function watchProject(config: GenConfig, run: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, quietPeriodMs);
  };
  run();
  const watcher: FSWatcher = watch(config.root, { recursive: true }, (_event, name) => {
    if (name && isRelevantChange(config, `${config.root}${sep}${name}`)) schedule();
  });
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
