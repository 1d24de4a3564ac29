import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { KobanConfigError } from '../../sdk/errors.js';
import type { DrizzleDatabase } from './executor.js';

// PGlite is an optional peer dependency: production installs that give Koban a postgres:// URL
// never load it, and need not install it. Only the embedded default and a given PGlite import it.

const pglitePackage = '@electric-sql/pglite';

/** The PGlite module, or a KobanConfigError saying what to install when it is missing. */
async function loadPglite(why: string): Promise<typeof import('@electric-sql/pglite')> {
  try {
    return await import('@electric-sql/pglite');
  } catch (error) {
    throw explainMissing(error, why);
  }
}

/** A new PGlite client, ready for queries. */
export async function createPglite(options: PGliteOptions, why: string): Promise<PGlite> {
  const { PGlite } = await loadPglite(why);
  const client = new PGlite(options);
  await client.waitReady;
  return client;
}

/** Drizzle over a PGlite client; drizzle-orm/pglite imports PGlite too, so it is loaded here only. */
export async function pgliteDrizzle(client: PGlite): Promise<DrizzleDatabase> {
  try {
    const { drizzle } = await import('drizzle-orm/pglite');
    return drizzle({ client });
  } catch (error) {
    throw explainMissing(error, 'a PGlite database');
  }
}

function explainMissing(error: unknown, why: string): unknown {
  const missing =
    (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
    String((error as Error).message).includes(pglitePackage);
  if (!missing) return error;
  return new KobanConfigError(
    `${why} needs ${pglitePackage}, which is not installed. Run \`npm install ${pglitePackage}\`, ` +
      'or give Koban.start({ database }) a postgres:// URL',
    { cause: error },
  );
}
