import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { latestVersion } from '../engine/migrations/index.js';

/**
 * The environment variable naming a directory where migrated in-memory snapshots are kept across
 * processes. `koban/vitest` sets it (to `node_modules/.cache/koban`), so that the first embedded
 * start of each test file loads a snapshot instead of running initdb and the migrations again.
 */
export const snapshotDirectoryVariable = 'KOBAN_PGLITE_SNAPSHOTS';

/** The version of the installed PGlite, which a stored data directory must match. */
async function pgliteVersion(): Promise<string> {
  const wasm = createRequire(import.meta.url).resolve('@electric-sql/pglite/pglite.wasm');
  const manifest = JSON.parse(await readFile(join(dirname(wasm), '..', 'package.json'), 'utf8'));
  return String((manifest as { version?: unknown }).version);
}

/** Where the snapshot of `schema` is kept, or undefined when no directory is configured. */
async function snapshotFile(schema: string): Promise<string | undefined> {
  const directory = process.env[snapshotDirectoryVariable];
  if (!directory) return undefined;
  try {
    return join(directory, `pglite-${await pgliteVersion()}-koban-v${latestVersion}-${schema}.tar`);
  } catch {
    return undefined; // a PGlite laid out otherwise: no stored snapshots
  }
}

/** The stored snapshot of `schema`, if the directory has one. */
export async function readStoredSnapshot(schema: string): Promise<Blob | undefined> {
  const file = await snapshotFile(schema);
  if (!file) return undefined;
  try {
    return new Blob([await readFile(file)]);
  } catch {
    return undefined;
  }
}

/** Keeps a snapshot for other processes; written whole and renamed, so readers never see half. */
export async function storeSnapshot(schema: string, snapshot: Blob): Promise<void> {
  const file = await snapshotFile(schema);
  if (!file) return;
  const partial = `${file}.${process.pid}.partial`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(partial, new Uint8Array(await snapshot.arrayBuffer()));
    await rename(partial, file);
  } catch {
    await rm(partial, { force: true }).catch(() => undefined); // only slower next time
  }
}

/** Drops a stored snapshot that failed to load, so the next start writes a good one. */
export async function forgetStoredSnapshot(schema: string): Promise<void> {
  const file = await snapshotFile(schema);
  if (file) await rm(file, { force: true }).catch(() => undefined);
}
