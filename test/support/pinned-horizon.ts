import postgres from 'postgres';
import { waitFor } from './wait.js';

/**
 * Opens a transaction that holds its snapshot, so that the xmin horizon stays where it is: no row
 * version deleted or updated from then on can be removed, nor its index entries marked dead.
 * Returns what ends it.
 */
export async function pinHorizon(url: string): Promise<() => Promise<void>> {
  const holder = postgres(url, { max: 1, onnotice: () => {} });
  let release: (() => void) | undefined;
  const held = holder.begin('isolation level repeatable read', async (tx) => {
    await tx`SELECT txid_current()`;
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  await waitFor('the horizon to be pinned', async () => release !== undefined);
  return async () => {
    release!();
    await held;
    await holder.end();
  };
}
