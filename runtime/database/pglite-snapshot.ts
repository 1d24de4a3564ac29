import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { PGlite } from '@electric-sql/pglite';
import { createPglite } from './embedded-pglite.js';
import { forgetStoredSnapshot, readStoredSnapshot, storeSnapshot } from './pglite-snapshot-store.js';

// Starting embedded PGlite costs about 2.5 s: compiling its WebAssembly, then initdb. In-memory
// starts after the first in a process skip both: the compiled modules are kept, and the data
// directory is loaded from a snapshot taken right after the first start migrated a schema. Tests
// that start a fresh in-memory Koban per test so start in well under a second. With a snapshot
// directory (pglite-snapshot-store.ts), the first start of a process loads one too.

interface Artifacts {
  readonly pgliteWasmModule: WebAssembly.Module;
  readonly initdbWasmModule: WebAssembly.Module;
  readonly fsBundle: Blob;
}

/** Node's WebAssembly global, which the ES lib this package compiles against does not declare. */
const wasm = (
  globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }
).WebAssembly;

let artifacts: Promise<Artifacts | undefined> | undefined;
/** Per schema: a dump of a data directory in which it is migrated. */
const snapshots = new Map<string, Promise<Blob | undefined>>();
/** In-memory clients that started without a snapshot of their schema, by client. */
const unsnapshotted = new WeakMap<PGlite, string>();

const why = 'Koban.start without a database (embedded PostgreSQL)';

/** Reads and compiles PGlite's artifacts once; undefined when they are not where expected. */
function loadArtifacts(): Promise<Artifacts | undefined> {
  artifacts ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      const path = (name: string) => require.resolve(`@electric-sql/pglite/${name}`);
      const [pglite, initdb, bundle] = await Promise.all(
        ['pglite.wasm', 'initdb.wasm', 'pglite.data'].map((name) => readFile(path(name))),
      );
      return {
        pgliteWasmModule: await wasm.compile(pglite!),
        initdbWasmModule: await wasm.compile(initdb!),
        fsBundle: new Blob([bundle!]),
      };
    } catch {
      return undefined; // a PGlite laid out otherwise: it finds its own files, only slower
    }
  })();
  return artifacts;
}

/** The snapshot of `schema`: this process's, else one stored by another (see the store). */
function snapshotOf(schema: string | undefined): Promise<Blob | undefined> | undefined {
  if (schema === undefined) return undefined;
  let snapshot = snapshots.get(schema);
  if (!snapshot) {
    snapshot = readStoredSnapshot(schema);
    snapshots.set(schema, snapshot);
  }
  return snapshot;
}

/** A fresh in-memory PGlite: from a snapshot of `schema` when there is one. */
export async function openInMemory(schema: string | undefined): Promise<PGlite> {
  const [compiled, snapshot] = await Promise.all([loadArtifacts(), snapshotOf(schema)]);
  if (snapshot && schema !== undefined) {
    try {
      return await createPglite({ ...compiled, loadDataDir: snapshot }, why);
    } catch {
      // A damaged stored snapshot: start afresh, and let this start take a new one.
      snapshots.delete(schema);
      await forgetStoredSnapshot(schema);
    }
  }
  const client = await createPglite({ ...compiled }, why);
  if (schema !== undefined) unsnapshotted.set(client, schema);
  return client;
}

/**
 * Called once `schema` is migrated: keeps a snapshot of an in-memory client that started without
 * one, for the next in-memory start of that schema in this process.
 */
export async function snapshotMigrated(client: PGlite, schema: string): Promise<void> {
  if (unsnapshotted.get(client) !== schema) return;
  unsnapshotted.delete(client);
  const kept = snapshots.get(schema);
  if (kept && (await kept)) return; // another start of this process took one meanwhile
  const dump = client.dumpDataDir('none').then(
    (file) => file as Blob,
    () => undefined, // no snapshot: later starts are only slower
  );
  snapshots.set(schema, dump);
  const snapshot = await dump;
  if (snapshot) await storeSnapshot(schema, snapshot);
}
