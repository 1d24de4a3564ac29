import postgres from 'postgres';
import { cancel, defineWorker, discard, type Job, snooze } from '../../../index.js';

// Workers of the flow-control tests and the child nodes they spawn. Every attempt records its
// start and its end in a side table through a connection of its own, inside `process`: the
// overlaps measured there are what actually ran at once, whatever Koban's own rows say.

let recorder: postgres.Sql | undefined;

export const createFlowRunsTable = `
  CREATE TABLE IF NOT EXISTS public.flow_runs (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    queue text NOT NULL,
    tenant text,
    weight integer NOT NULL DEFAULT 1,
    node text NOT NULL,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at timestamptz
  )`;

export function openFlowRecorder(url: string): void {
  recorder ??= postgres(url, { max: 6, onnotice: () => {} });
}

export async function closeFlowRecorder(): Promise<void> {
  await recorder?.end({ timeout: 5 });
  recorder = undefined;
}

function sql(): postgres.Sql {
  if (!recorder) throw new Error('call openFlowRecorder(url) before running the flow workers');
  return recorder;
}

export interface FlowArgs {
  tenant?: string;
  /** How long the attempt lasts. */
  ms?: number;
  /** How the first run ends; later runs complete. `hang`: until aborted or the process dies. */
  first?: 'error' | 'snooze' | 'cancel' | 'discard' | 'timeout' | 'hang';
  /** Ends every attempt so, not only the first. */
  always?: boolean;
}

/** Records its start, lasts `ms`, ends as `first` says, and records its end. */
export class FlowWorker {
  async process(job: Job<FlowArgs>) {
    const weight = Number((job.meta as Record<string, unknown>).koban_weight ?? 1);
    const node = job.attemptedBy[job.attemptedBy.length - 1] ?? '?';
    const [run] = await sql()<{ id: string }[]>`
      INSERT INTO public.flow_runs (job_id, queue, tenant, weight, node, attempt)
      VALUES (${job.id}, ${job.queue}, ${job.args.tenant ?? null}, ${weight}, ${node}, ${job.attempt})
      RETURNING id`;
    // A snooze gives its attempt back: the first run is told by the side table, not the attempt.
    const [runs] = await sql()<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM public.flow_runs WHERE job_id = ${job.id}`;
    const ending = runs!.n === 1 || job.args.always ? job.args.first : undefined;
    try {
      if (ending === 'hang' || ending === 'timeout') {
        await new Promise<void>((_, reject) => {
          job.signal.addEventListener('abort', () => reject(job.signal.reason));
        });
      }
      if (job.args.ms) await new Promise((resolve) => setTimeout(resolve, job.args.ms));
    } finally {
      await sql()`UPDATE public.flow_runs SET ended_at = clock_timestamp() WHERE id = ${run!.id}`;
    }
    if (ending === 'error') throw new Error('first attempt fails');
    if (ending === 'snooze') return snooze(0);
    if (ending === 'cancel') return cancel('cancelled by the worker');
    if (ending === 'discard') return discard('discarded by the worker');
    return undefined;
  }
}
defineWorker(FlowWorker, { queue: 'limited', maxAttempts: 3, timeout: 2000 });

/** The same, twice as heavy. */
export class HeavyFlowWorker extends FlowWorker {}
defineWorker(HeavyFlowWorker, { queue: 'limited', maxAttempts: 3, timeout: 2000, weight: 2 });

/** A FlowWorker whose failed attempts are retried after a second. */
export class QuickRetryWorker extends FlowWorker {
  backoff(): number {
    return 1;
  }
}
defineWorker(QuickRetryWorker, { queue: 'chains', maxAttempts: 3 });

/** A batch on a limited queue: its callback runs as a job of the same queue, recorded like the others. */
export class LimitedBatchWorker extends FlowWorker {
  async handleCompleted(job: Job<FlowArgs>) {
    await sql()`
      INSERT INTO public.flow_runs (job_id, queue, tenant, node, attempt, ended_at)
      VALUES (${job.id}, ${job.queue}, 'callback', '?', ${job.attempt}, clock_timestamp())`;
  }
}
defineWorker(LimitedBatchWorker, { queue: 'flows' });

export const flowWorkers = [FlowWorker, HeavyFlowWorker, QuickRetryWorker, LimitedBatchWorker];

/** A worker chained per tenant (`@Worker({ chain })`), beside unchained ones in its queue. */
export class ChainedFlowWorker extends QuickRetryWorker {}
defineWorker(ChainedFlowWorker, { queue: 'accounts', maxAttempts: 3, chain: { by: { args: ['tenant'] } } });

/** Chained per tenant, a discarded link holding the rest of its chain. */
export class HoldingChainWorker extends FlowWorker {}
defineWorker(HoldingChainWorker, {
  queue: 'accounts',
  maxAttempts: 1,
  chain: { by: { args: ['tenant'] }, onFailure: 'hold' },
});

/** Unchained, in the chained workers' queue. */
export class AccountsFlowWorker extends FlowWorker {}
defineWorker(AccountsFlowWorker, { queue: 'accounts' });

export const chainedFlowWorkers = [ChainedFlowWorker, HoldingChainWorker, AccountsFlowWorker];

/**
 * The most slots that ran at once, in the side table: at each start, the weights of the runs of
 * the same group (queue, or queue and tenant) that had started and not yet ended.
 */
export async function maxOverlap(url: string, by: 'queue' | 'tenant'): Promise<Map<string, number>> {
  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const key = (alias: string) =>
      by === 'queue' ? `${alias}.queue` : `${alias}.queue || '/' || coalesce(${alias}.tenant, '')`;
    const rows = await db.unsafe<{ key: string; most: number }[]>(`
      SELECT key, max(at_once)::int AS most FROM (
        SELECT ${key('r')} AS key, (
          SELECT sum(o.weight) FROM public.flow_runs o
          WHERE ${key('o')} = ${key('r')} AND o.started_at <= r.started_at
            AND (o.ended_at IS NULL OR o.ended_at > r.started_at)
        ) AS at_once
        FROM public.flow_runs r
      ) runs_at_once GROUP BY key`);
    return new Map(rows.map((row) => [row.key, row.most]));
  } finally {
    await db.end();
  }
}
