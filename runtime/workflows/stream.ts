import { type SQL, sql } from 'drizzle-orm';
import { KobanValidationError } from '../../sdk/errors.js';
import type { JobRecord } from '../../sdk/job.js';
import type { WorkflowStreamOptions } from '../../sdk/workflow-context.js';
import type { EngineContext } from '../engine/context.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { workflowJobs } from './jobs.js';

const defaultBatchSize = 500;

/**
 * A workflow's jobs in id (insert) order, `batchSize` per query, each page starting after the
 * last id of the one before: a page costs the same at the end of a 100,000-step workflow as at
 * its start, and jobs appended while it streams come at the end. Checked when called, not when
 * first iterated, so a bad option throws where it is passed.
 */
export function streamWorkflowJobs(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  workflowId: string,
  options: WorkflowStreamOptions,
  extra?: SQL,
): AsyncIterable<JobRecord> {
  const batchSize = options.batchSize ?? defaultBatchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new KobanValidationError([
      {
        path: 'streamJobs: batchSize',
        message: `expected a whole number from 1 to 100000, got ${JSON.stringify(batchSize)}`,
      },
    ]);
  }
  return {
    async *[Symbol.asyncIterator]() {
      let after = '0';
      for (;;) {
        const page = await workflowJobs(
          ctx,
          catalog,
          workflowId,
          options,
          sql`j.id > ${after}::bigint AND ${extra ?? sql`true`}`,
          batchSize,
        );
        yield* page;
        if (page.length < batchSize) return;
        after = page[page.length - 1]!.id;
      }
    },
  };
}
