import { join } from 'node:path';
import { snapshotDirectoryVariable } from '../runtime/database/pglite-snapshot-store.js';
import { compileDecorators, type TransformedCode } from './decorator-transform.js';

/**
 * The part of a Vite plugin that `koban()` fills in: structural, so that koban needs no Vite
 * types and works with the Vite release that vitest brings (7 or 8).
 */
export interface KobanVitePlugin {
  readonly name: string;
  readonly enforce: 'pre';
  config(): { test: { env: Record<string, string> } } | undefined;
  transform(code: string, id: string): Promise<TransformedCode | null>;
}

export interface KobanVitestOptions {
  /** Files to compile; default every TypeScript file outside node_modules. */
  include?: RegExp | undefined;
  /**
   * Where embedded starts keep a snapshot of a freshly migrated database for the next test
   * files (each runs in a process of its own); `false` keeps none. Default
   * `node_modules/.cache/koban`.
   */
  snapshots?: string | false | undefined;
}

const typescriptFile = /\.[cm]?tsx?$/;
/** A decorator: `@name` starting a line or following a space, `(`, `,`, `;` or `{`. */
const decorator = /(^|[\s(,;{])@[A-Za-z_$]/m;

/**
 * Makes vitest run Koban workers: compiles decorators before Vite's own TypeScript transform,
 * which leaves TC39 standard decorators as written in Vite 8 (Node can't run them yet). And
 * makes the first embedded `Koban.start` of each test file fast: it loads a snapshot of a
 * migrated database that an earlier test file or run kept (see `snapshots`).
 *
 * ```ts
 * // vitest.config.ts
 * import { defineConfig } from 'vitest/config';
 * import { koban } from 'koban/vitest';
 *
 * export default defineConfig({ plugins: [koban()] });
 * ```
 *
 * Needs esbuild (`npm install -D esbuild`). It honours the project's tsconfig.json, so
 * `experimentalDecorators` projects get legacy decorators, as tsc would compile them.
 */
export function koban(options: KobanVitestOptions = {}): KobanVitePlugin {
  const include = options.include ?? typescriptFile;
  const snapshots = options.snapshots ?? join(process.cwd(), 'node_modules', '.cache', 'koban');
  return {
    name: 'koban:decorators',
    enforce: 'pre',
    config() {
      if (snapshots === false) return undefined;
      return { test: { env: { [snapshotDirectoryVariable]: snapshots } } };
    },
    async transform(code, id) {
      const file = id.split('?', 1)[0]!;
      if (file.startsWith('\0') || file.includes('/node_modules/')) return null;
      if (!include.test(file) || !decorator.test(code)) return null;
      return compileDecorators(code, file);
    },
  };
}
