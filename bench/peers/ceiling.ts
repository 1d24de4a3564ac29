// The ceiling: Koban's claim and completion SQL (bench/ceiling-sql.ts) on Koban's schema, driven by
// a minimal postgres.js loop with no framework: claim a batch with FOR UPDATE SKIP LOCKED, call
// the no-op handler per row, complete the batch by one id array; the next claim is in flight while
// the last batch is completed. Rows are read undecoded. The option is `<keep|delete|move>:<batch>`.
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import {
  type CeilingVariant,
  ceilingVariants,
  claimJobs,
  completeJobs,
  createHistory,
  describeVariant,
  hasJobHistory,
  insertJobs,
  keepRowsInPlace,
  tableColumns,
} from '../ceiling-sql.js';
import { loadKoban, quietLogger } from '../koban-dist.js';
import { countRows, type Peer, run } from './harness.js';

interface Config {
  readonly variant: CeilingVariant;
  readonly batch: number;
}

function configOf(option: string | undefined): Config {
  const [variant, batch] = (option ?? 'keep:2000').split(':');
  if (!ceilingVariants.includes(variant as CeilingVariant) || !Number(batch))
    throw new Error(
      `ceiling option ${option}: expected <${ceilingVariants.join('|')}>:<batch>, as keep:2000`,
    );
  return { variant: variant as CeilingVariant, batch: Number(batch) };
}

const connect = (url: string, max: number) => postgres(url, { max, onnotice: () => {} });

export const ceiling: Peer = {
  async producer(url, option) {
    // Koban's own migrations make the schema: the same table, indexes and insert trigger.
    const { Koban } = await loadKoban();
    await (await Koban.start({ database: url, queues: {}, workers: [], logger: quietLogger })).stop();
    const sql = connect(url, 1);
    const { variant } = configOf(option);
    const history = Boolean((await sql.unsafe(hasJobHistory))[0]?.found);
    if (variant === 'move' && !history) for (const statement of createHistory) await sql.unsafe(statement);
    if (variant === 'keep' && history) await sql.unsafe(keepRowsInPlace);
    return {
      async insertMany(count) {
        const args = Array.from({ length: count }, (_, n) => `{"n":${n}}`);
        await sql.unsafe(insertJobs, [args]);
      },
      close: () => sql.end(),
    };
  },
  async consumer(url, started, option) {
    const { variant, batch } = configOf(option);
    const sql = connect(url, 3);
    const table = (await sql.unsafe(hasJobHistory))[0]?.found ? 'job_history' : 'ceiling_history';
    const columns =
      variant === 'move'
        ? (await sql.unsafe(tableColumns, [table])).map((row) => String(row.column_name))
        : [];
    const complete = completeJobs(variant, { table: `koban.${table}`, columns });
    const claim = () =>
      sql.unsafe(claimJobs, ['bench', batch, `ceiling-${process.pid}`], { prepare: true }).raw();
    let stopped = false;
    const loop = async () => {
      let completing: Promise<unknown> = Promise.resolve();
      let next = claim();
      while (!stopped) {
        const rows = await next;
        if (rows.length === 0) {
          await completing;
          await sleep(5);
          next = claim();
          continue;
        }
        next = claim(); // in flight while this batch runs and is completed
        const ids: string[] = new Array(rows.length);
        for (let i = 0; i < rows.length; i++) {
          ids[i] = String(rows[i]![0]);
          started(i);
        }
        await completing; // one completion in flight at a time
        completing = sql.unsafe(complete, [ids, 1], { prepare: true });
      }
      await completing;
      await next;
    };
    const looping = loop();
    return {
      insertOne: () => Promise.reject(new Error('the ceiling has no latency figure: it does not listen')),
      async stop() {
        stopped = true;
        await looping;
        await sql.end();
      },
    };
  },
  pending: countRows(`SELECT count(*) FROM koban.jobs WHERE state <> 'completed'`),
  settings(option) {
    const { variant, batch } = configOf(option);
    return `Koban's SQL from a bare postgres.js loop, claims of ${batch}, next claim overlapped with the completion; ${variant}: ${describeVariant[variant]}; insert: one INSERT … SELECT unnest($1::text[])`;
  },
};

run(ceiling);
