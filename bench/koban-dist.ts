// Loads Koban for a benchmark child from a built copy (`KOBAN_DIST`: the directory holding its
// index.js), so that it runs as compiled JavaScript under plain node, as the peers do, and so
// that an A/B run can point each child at another build. The orchestrator (run.ts) sets it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type KobanModule = typeof import('../index.js');

export async function loadKoban(): Promise<KobanModule> {
  const dist = process.env.KOBAN_DIST;
  if (!dist) throw new Error('KOBAN_DIST is not set: run the benchmarks through `npm run bench`');
  const entry = join(dist, 'index.js');
  if (!existsSync(entry)) throw new Error(`KOBAN_DIST=${dist} holds no index.js: build Koban there first`);
  return (await import(pathToFileURL(entry).href)) as KobanModule;
}

/** Koban's logger for the benchmarks: errors only ("no running node runs the queue" is expected). */
export const quietLogger = {
  info() {},
  warn() {},
  error: (details: unknown, message?: string) =>
    process.stderr.write(
      `  [koban] ${typeof details === 'string' ? details : `${message} ${String((details as { error?: unknown }).error ?? '')}`}\n`,
    ),
};
