import { sql } from 'drizzle-orm';
import { KobanWorkflowError } from '../../sdk/errors.js';
import type { JsonObject } from '../../sdk/job.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import type { InsertedJob, PlanWrite } from '../engine/insert.js';

/** `rows[job]` waits for `dep`: another row of the plan (its index) or an existing job (its id). */
export interface PlannedEdge {
  readonly job: number;
  readonly dep: number | { readonly id: string };
  readonly depStep: string;
  /** Bits of dep outcomes that count as done (see rules.ts). */
  readonly ignore: number;
  readonly waitingDelay: number;
  readonly waitingLimit: number;
}

/** The workflow rows an insert creates, before its steps; an id that exists already fails the insert. */
export function workflowsWrite(
  ctx: EngineContext,
  workflows: readonly {
    readonly id: string;
    readonly name: string | null;
    readonly context?: JsonObject;
    readonly kinds?: Readonly<Record<string, string>>;
    readonly uniqueKey?: string | null;
    readonly returns?: readonly string[] | null;
  }[],
): PlanWrite {
  const json = (value: object | undefined) =>
    value === undefined || Object.keys(value).length === 0 ? null : JSON.stringify(value);
  return async (tx) => {
    const inserted = await ctx.database.query<{ id: string }>(
      sql`
        INSERT INTO ${sql.raw(ctx.schema)}.workflows (id, name, context, kinds, unique_key, returns)
        SELECT id, name, context::jsonb, kinds::jsonb, unique_key,
          CASE WHEN returns IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(returns::jsonb)) END
        FROM unnest(${list(
          workflows.map((w) => w.id),
          'uuid',
        )}, ${list(
          workflows.map((w) => w.name),
          'text',
        )}, ${list(
          workflows.map((w) => (w.context === undefined ? null : JSON.stringify(w.context))),
          'text',
        )}, ${list(
          workflows.map((w) => json(w.kinds)),
          'text',
        )}, ${list(
          workflows.map((w) => w.uniqueKey ?? null),
          'text',
        )}, ${list(
          workflows.map((w) => (w.returns ? JSON.stringify(w.returns) : null)),
          'text',
        )}) AS w(id, name, context, kinds, unique_key, returns)
        ON CONFLICT (id) DO NOTHING
        RETURNING id`,
      tx,
    );
    if (inserted.length < workflows.length) {
      const taken = workflows.filter((w) => !inserted.some((row) => row.id === w.id)).map((w) => w.id);
      throw new KobanWorkflowError(
        `workflow ${taken.join(', ')} already exists: add steps to a running workflow with koban.appendWorkflow(id, build)`,
      );
    }
  };
}

/** The edges between the inserted steps (and existing ones), after the steps. */
export function edgesWrite(ctx: EngineContext, edges: readonly PlannedEdge[]): PlanWrite {
  return async (tx, jobs: readonly InsertedJob[]) => {
    if (edges.length === 0) return;
    const idOf = (ref: PlannedEdge['dep']) => (typeof ref === 'number' ? jobs[ref]!.id : ref.id);
    const pick = <T extends string | number>(value: (edge: PlannedEdge) => T) => edges.map(value);
    await ctx.database.query(
      sql`
        INSERT INTO ${sql.raw(ctx.schema)}.workflow_deps (dep_id, job_id, dep_step, ignore, waiting_delay, waiting_limit)
        SELECT * FROM unnest(${list(
          pick((edge) => idOf(edge.dep)),
          'bigint',
        )}, ${list(
          pick((edge) => jobs[edge.job]!.id),
          'bigint',
        )},
          ${list(
            pick((edge) => edge.depStep),
            'text',
          )}, ${list(
            pick((edge) => edge.ignore),
            'smallint',
          )},
          ${list(
            pick((edge) => edge.waitingDelay),
            'int',
          )}, ${list(
            pick((edge) => edge.waitingLimit),
            'int',
          )})`,
      tx,
    );
  };
}
