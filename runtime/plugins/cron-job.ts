import { KobanConfigError } from '../../sdk/errors.js';
import type { JsonObject } from '../../sdk/job.js';
import { jobStates, stateMask } from '../../sdk/states.js';
import { cronBinding } from '../engine/args-binding.js';
import type { StoredCronEntry } from '../engine/cron-entries.js';
import type { InsertRow } from '../engine/insert.js';
import { prepareJobs } from '../workers/prepare-job.js';
import { readableArgs } from '../workers/stored-args.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

const allStates = stateMask(jobStates);

/** The unique key of a cron entry's tick: held for good, so a tick's job exists once. */
export function tickKey(name: string, tick: Date): string {
  return `cron:${name}:${tick.toISOString()}`;
}

/**
 * The row of a stored entry's job: its args opened and checked again as an insert checks them,
 * its options over the worker's defaults, `meta.cron` naming the entry. `tick` keys the row by
 * its tick; without one (a run by hand, a `@reboot`) the row has no unique key. Undefined when
 * this process defines no worker of that name: a node that does inserts the job.
 */
export async function storedCronJob(
  catalog: WorkerCatalog,
  stored: StoredCronEntry,
  meta: JsonObject,
  tick?: Date,
): Promise<InsertRow | undefined> {
  const entry = await catalog.entryForName(stored.worker);
  if (!entry) return undefined;
  const opened = readableArgs(entry, stored.args, cronBinding(stored.name));
  const args = entry.args ? entry.args.decode(opened) : opened;
  const { meta: ownMeta, ...options } = stored.options;
  let row: InsertRow;
  try {
    [row] = (await prepareJobs(catalog, [
      { worker: entry.worker, args, options: { ...options, meta: { ...ownMeta, ...meta } } },
    ])) as [InsertRow];
  } catch (error) {
    throw new KobanConfigError(
      `cron entry ${JSON.stringify(stored.name)}: its job for ${stored.worker} no longer fits the worker: ${(error as Error).message}. ` +
        'Update the entry with koban.cron.update(name, { args })',
      { cause: error },
    );
  }
  if (!tick)
    return { ...row, uniqueKey: null, uniqueStates: null, uniquePeriod: undefined, uniqueReplace: undefined };
  return {
    ...row,
    uniqueKey: tickKey(stored.name, tick),
    uniqueStates: allStates,
    // The tick's key is held for good, whatever unique options the worker has.
    uniquePeriod: null,
    uniqueReplace: undefined,
  };
}
