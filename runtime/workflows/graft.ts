import { sql } from 'drizzle-orm';
import { KobanWorkflowError } from '../../sdk/errors.js';
import type { Workflow } from '../../sdk/workflow.js';
import { list } from '../database/wire.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import type { InsertedJob } from '../engine/insert.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { appendWorkflow } from './append.js';
import { appendedSteps } from './plan.js';

/** The running graft step that grows its workflow. */
export interface GraftingJob {
  readonly id: string;
  readonly attempt: number;
  readonly workflowId: string;
  readonly step: string;
}

/** The graft step of a claimed job, or a clear error for a job outside a workflow. */
export function graftingJob(job: ClaimedJob): GraftingJob {
  if (job.workflowId === null || job.workflowStep === null) {
    throw new KobanWorkflowError(`graft: job ${job.id} is not a workflow step`);
  }
  return { id: job.id, attempt: job.attempt, workflowId: job.workflowId, step: job.workflowStep };
}

/**
 * Grows a workflow from a running graft step, in one transaction: the grafted steps go in as
 * `graft.step` (their deps name each other, or the workflow's existing steps), and every step
 * that waits for the graft waits for each of them too, under its row lock. A graft grows once:
 * on a retry after it grew, it adds nothing and returns `null`, so the caller reads the steps
 * added the first time.
 */
export async function graftWorkflow(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  job: GraftingJob,
  workflow: Workflow<any, any>,
): Promise<InsertedJob[] | null> {
  const s = sql.raw(ctx.schema);
  const where = `graft from step "${job.step}" (job ${job.id})`;
  const appended = await appendedSteps(ctx, catalog, workflow, job.workflowId);
  const prefix = `${job.step}.`;
  const own = new Set(appended.steps.map((step) => step.name));
  const steps = appended.steps.map((step) => ({
    ...step,
    name: `${prefix}${step.name}`,
    deps: step.deps.map((dep) => (own.has(dep) ? `${prefix}${dep}` : dep)),
  }));
  const kinds = Object.fromEntries(
    Object.entries(appended.kinds).map(([name, kind]) => [`${prefix}${name}`, kind]),
  );
  return ctx.database.transaction(async (tx) => {
    // The workflow row's lock makes two grafts of one step take turns.
    const [row] = await ctx.database.query<{ kind: string | null }>(
      sql`SELECT w.kinds ->> ${job.step} AS kind FROM ${s}.workflows w WHERE w.id = ${job.workflowId}::uuid FOR UPDATE`,
      tx,
    );
    if (row?.kind !== 'graft') {
      throw new KobanWorkflowError(
        `${where}: only a step added with workflow().addGraft(name, job) may graft; add "${job.step}" with addGraft, or use job.workflow.append`,
      );
    }
    const [running] = await ctx.database.query<{ id: string }>(
      sql`SELECT id::text AS id FROM ${s}.jobs WHERE id = ${job.id}::bigint AND state = 'executing' AND attempt = ${job.attempt} FOR SHARE`,
      tx,
    );
    if (!running) throw new KobanWorkflowError(`${where}: the step is no longer running this attempt`);
    const [grown] = await ctx.database.query<{ id: string }>(
      sql`SELECT id::text AS id FROM ${allJobs(ctx.schema)} j
        WHERE j.workflow_id = ${job.workflowId}::uuid AND starts_with(j.workflow_step, ${prefix}) LIMIT 1`,
      tx,
    );
    if (grown) return null;
    const inserted = await appendWorkflow(
      ctx,
      job.workflowId,
      { steps, after: appended.after, kinds: { ...kinds } },
      tx,
    );
    await ctx.database.query(
      sql`
        WITH grafted AS (
          SELECT * FROM unnest(${list(
            inserted.map((step) => step.id),
            'bigint',
          )}, ${list(
            steps.map((step) => step.name),
            'text',
          )}) AS g(id, step)
        ), waiting AS MATERIALIZED (
          SELECT e.job_id, e.ignore, e.waiting_delay, e.waiting_limit FROM ${s}.workflow_deps e
          WHERE e.dep_id = ${job.id}::bigint
        ), locked AS MATERIALIZED (
          -- Locked in id order, as the release locks them, so that the two cannot deadlock.
          SELECT j.id FROM ${s}.jobs j JOIN waiting w ON w.job_id = j.id
          WHERE j.state = 'held' ORDER BY j.id FOR UPDATE OF j
        ), edges AS (
          INSERT INTO ${s}.workflow_deps (dep_id, job_id, dep_step, ignore, waiting_delay, waiting_limit)
          SELECT g.id, w.job_id, g.step, w.ignore, w.waiting_delay, w.waiting_limit
          FROM waiting w JOIN locked l ON l.id = w.job_id CROSS JOIN grafted g
        )
        UPDATE ${s}.jobs j SET deps_remaining = j.deps_remaining + ${inserted.length}
        FROM locked l WHERE j.id = l.id`,
      tx,
    );
    return inserted;
  });
}
