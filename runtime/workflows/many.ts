import { sql } from 'drizzle-orm';
import type { EngineContext } from '../engine/context.js';

/** A workflow's manys and grafts by name, as `addMany` and `addGraft` (and appends) stored them. */
export async function workflowKinds(ctx: EngineContext, workflowId: string): Promise<Record<string, string>> {
  const [row] = await ctx.database.query<{ kinds: Record<string, string> | null }>(
    sql`SELECT w.kinds FROM ${sql.raw(ctx.schema)}.workflows w WHERE w.id = ${workflowId}::uuid`,
  );
  return row?.kinds ?? {};
}

/** The position of `step` in the many `name` (`name.3` is 3), or undefined when it is not a member. */
export function memberIndex(name: string, step: string): number | undefined {
  if (!step.startsWith(`${name}.`)) return undefined;
  const rest = step.slice(name.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

/**
 * The results of each many among `steps`: the list of its members' values in the order they
 * were added (a member without a value, not completed or not recorded, is undefined), by the
 * many's name.
 */
export function manyResults(
  kinds: Record<string, string>,
  steps: readonly { readonly step: string; readonly value: unknown }[],
): Record<string, unknown[]> {
  const results: Record<string, unknown[]> = {};
  for (const [name, kind] of Object.entries(kinds)) {
    if (kind !== 'many') continue;
    const members = steps
      .map((step) => ({ index: memberIndex(name, step.step), value: step.value }))
      .filter((member) => member.index !== undefined);
    if (members.length === 0) continue;
    const list: unknown[] = [];
    for (const member of members) list[member.index!] = member.value;
    results[name] = Array.from(list);
  }
  return results;
}
