import type { Codec } from '../../sdk/codec.js';
import { KobanConfigError, KobanValidationError } from '../../sdk/errors.js';
import { newJob } from '../../sdk/job-spec.js';
import type { WorkerClass } from '../../sdk/worker.js';
import type { CronEntry } from '../config.js';
import { prepareJob } from '../workers/prepare-job.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { cronJobOptions } from './cron.js';

/**
 * Checks each cron entry's args and job options as an insert would (the builder's or the catalog's generated
 * codec, else the JSON and `@Structured` checks), so that bad args fail `Koban.start` instead of
 * every tick. Throws a KobanConfigError naming the entry.
 */
export async function checkCronArgs(entries: readonly CronEntry[], catalog: WorkerCatalog): Promise<void> {
  for (const [index, entry] of entries.entries()) {
    const given = entry.worker as
      | WorkerClass
      | { readonly worker: WorkerClass; readonly codec?: Codec<unknown> };
    const worker = typeof given === 'function' ? given : given.worker;
    const codec = typeof given === 'function' ? undefined : given.codec;
    const catalogEntry = await catalog.entryFor(worker);
    try {
      prepareJob(newJob(worker, entry.args ?? {}, cronJobOptions(entry), codec), {}, catalogEntry);
    } catch (error) {
      if (!(error instanceof KobanValidationError)) throw error;
      const name = entry.name ? ` (${JSON.stringify(entry.name)})` : '';
      throw new KobanConfigError(
        `cron[${index}]${name}: the job for ${catalogEntry.definition.name} is invalid: ${error.message}. ` +
          'Fix the args or options of this cron entry',
        { cause: error },
      );
    }
  }
}
