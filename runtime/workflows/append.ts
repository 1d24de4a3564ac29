import { type SQL, sql } from 'drizzle-orm';
import { KobanWorkflowError } from '../../sdk/errors.js';
import { isFinalState, type JobState } from '../../sdk/states.js';
import type { Executor } from '../database/executor.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { type InsertedJob, type InsertRow, insertPlan, type PlanWrite } from '../engine/insert.js';
import { reportTransitions } from '../engine/report.js';
import { edgesWrite, type PlannedEdge } from './edges.js';
import { releaseDependents } from './release.js';
import { countsAsDoneSql } from './rules.js';

/** A step to add to a running workflow: its row, and deps by name (new steps or existing ones). */
export interface AppendedStep {
  readonly row: InsertRow;
  readonly name: string;
  readonly deps: readonly string[];
  readonly ignore: number;
  readonly waitingDelay: number;
  readonly waitingLimit: number;
}

interface ExistingStep {
  readonly id: string;
  readonly step: string;
  readonly state: JobState;
  /** The `ignore` masks, among the new steps', for which this step counts as done. */
  readonly doneFor: number[];
}

/**
 * Adds steps to a running workflow in one transaction. Deps may name the new steps or the
 * workflow's existing ones (a sub-workflow's name stands for its steps). The existing deps are
 * read under a share lock, so none finishes unseen while the steps go in: one that completed
 * counts as done, one still running is waited for, and one that failed cancels the new step at
 * once, unless the step ignores that outcome.
 */
export async function appendWorkflow(
  ctx: EngineContext,
  workflowId: string,
  {
    steps,
    after,
    kinds = {},
  }: {
    readonly steps: readonly AppendedStep[];
    readonly after: readonly PlanWrite[];
    readonly kinds?: Readonly<Record<string, string>>;
  },
  executor?: Executor,
): Promise<InsertedJob[]> {
  const run = async (tx: Executor) => {
    const s = sql.raw(ctx.schema);
    const growing = Object.keys(kinds).length > 0;
    // Appends that add manys or grafts write the workflow row, so they take its lock for that at once.
    const [workflow] = await ctx.database.query(
      growing
        ? sql`UPDATE ${s}.workflows SET kinds = coalesce(kinds, '{}'::jsonb) || ${JSON.stringify(kinds)}::jsonb
            WHERE id = ${workflowId}::uuid RETURNING id`
        : sql`SELECT id FROM ${s}.workflows WHERE id = ${workflowId}::uuid FOR SHARE`,
      tx,
    );
    if (!workflow) {
      throw new KobanWorkflowError(
        `appendWorkflow: no workflow has the id ${workflowId}; it was never inserted, or was pruned`,
      );
    }
    if (growing) {
      const taken = await ctx.database.query<{ step: string }>(
        sql`SELECT j.workflow_step AS step FROM ${allJobs(ctx.schema)} j, unnest(${list(Object.keys(kinds), 'text')}) AS k(name)
          WHERE j.workflow_id = ${workflowId}::uuid AND (j.workflow_step = k.name OR starts_with(j.workflow_step, k.name || '.'))
          LIMIT 1`,
        tx,
      );
      if (taken.length > 0) {
        throw new KobanWorkflowError(
          `appendWorkflow(${workflowId}): the workflow already has a step "${taken[0]!.step}" under a name this append adds; give each step its own name`,
        );
      }
    }
    const newNames = new Set(steps.map((step) => step.name));
    const external = [...new Set(steps.flatMap((step) => step.deps.filter((dep) => !newNames.has(dep))))];
    const masks = [...new Set(steps.map((step) => step.ignore))];
    const names = list([...external, ...newNames], 'text');
    const named = (alias: string) =>
      sql.raw(
        `${alias}.workflow_id = names.workflow AND EXISTS (SELECT 1 FROM unnest(names.list) AS n(name) ` +
          `WHERE ${alias}.workflow_step = n.name OR starts_with(${alias}.workflow_step, n.name || '.'))`,
      );
    // Unfinished steps are locked first, so none finishes unseen while the steps go in. Finished
    // ones are read by a later statement: a step that finished while the lock waited for it is
    // gone from `jobs` and in the history by then, where the first statement's snapshot would
    // not have seen it. Finished steps cannot change but by a retry.
    const stepsOf = (from: SQL, lock: SQL) =>
      ctx.database.query<ExistingStep>(
        sql`
          WITH names AS (SELECT ${names} AS list, ${workflowId}::uuid AS workflow)
          SELECT j.id::text AS id, j.workflow_step AS step, j.state,
            to_json(ARRAY(SELECT m.ignore FROM unnest(${list(masks, 'int')}) AS m(ignore)
              WHERE ${sql.raw(countsAsDoneSql('j.state', 'm.ignore'))})) AS "doneFor"
          FROM ${from} j, names WHERE ${named('j')}
          ORDER BY j.id${lock}`,
        tx,
      );
    const unfinished = await stepsOf(sql`${s}.jobs`, sql` FOR SHARE OF j`);
    const finished = await stepsOf(sql`${s}.job_history`, sql``);
    const existing = [...unfinished, ...finished].sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    const taken = existing.filter((row) => newNames.has(row.step)).map((row) => row.step);
    if (taken.length > 0) {
      throw new KobanWorkflowError(
        `appendWorkflow(${workflowId}): the workflow already has steps named ${taken.join(', ')}; give each step its own name`,
      );
    }
    const byName = (name: string) =>
      existing.filter((row) => row.step === name || row.step.startsWith(`${name}.`));
    const missing = external.filter((name) => byName(name).length === 0);
    if (missing.length > 0) {
      throw new KobanWorkflowError(
        `appendWorkflow(${workflowId}): deps name steps the workflow does not have: ${missing.join(', ')}`,
      );
    }
    const index = new Map(steps.map((step, position) => [step.name, position]));
    const edges: PlannedEdge[] = [];
    const failed: { id: string; state: string; step: number }[] = [];
    const rows = steps.map((step, position) => {
      let remaining = 0;
      const seen = new Set<string>();
      const add = (dep: PlannedEdge['dep'], depStep: string): boolean => {
        // A dep named twice (a step and its sub-workflow, say) is one edge.
        const key = typeof dep === 'number' ? `new:${dep}` : dep.id;
        if (seen.has(key)) return false;
        seen.add(key);
        edges.push({
          job: position,
          dep,
          depStep,
          ignore: step.ignore,
          waitingDelay: step.waitingDelay,
          waitingLimit: step.waitingLimit,
        });
        return true;
      };
      for (const dep of step.deps) {
        const local = index.get(dep);
        if (local !== undefined) {
          if (add(local, dep)) remaining++;
          continue;
        }
        for (const row of byName(dep)) {
          if (!add({ id: row.id }, row.step)) continue;
          if (!isFinalState(row.state)) remaining++;
          else if (!row.doneFor.includes(step.ignore)) {
            remaining++;
            failed.push({ id: row.id, state: row.state, step: position });
          }
        }
      }
      return { ...step.row, workflowId, workflowStep: step.name, depsRemaining: remaining };
    });
    const inserted = await insertPlan(ctx, { rows, after: [edgesWrite(ctx, edges), ...after] }, tx);
    if (failed.length > 0) {
      const deps = failed.map(({ id, state, step }) => ({ id, state, only: inserted[step]!.id }));
      const cancelled = await releaseDependents(ctx, tx, deps);
      await reportTransitions(ctx, tx, cancelled);
    }
    return inserted;
  };
  return executor ? run(executor) : ctx.database.transaction(run);
}
