import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import postgres from 'postgres';

const url = process.argv[2]!;
const extra = JSON.parse(process.argv[3] ?? '{}');
const n = 20000;
const quiet = new Logger(() => () => {});
const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
await utils.migrate();
await utils.addJobs(Array.from({ length: n }, (_, i) => ({ identifier: 'noop', payload: { n: i } })));
await utils.release();
let handled = 0;
let done!: () => void;
const p = new Promise<void>((r) => (done = r));
const t0 = performance.now();
const runner = await run({
  connectionString: url,
  logger: quiet,
  noHandleSignals: true,
  taskList: {
    noop: async () => {
      if (++handled === n) done();
    },
  },
  preset: { worker: { concurrentJobs: 50, localQueue: { size: 500 }, completeJobBatchDelay: 0, ...extra } },
});
await p;
const sql = postgres(url, { max: 1 });
while (Number((await sql`select count(*) from graphile_worker._private_jobs`)[0]!.count) > 0)
  await new Promise((r) => setTimeout(r, 5));
console.log(JSON.stringify(extra), Math.round((n / (performance.now() - t0)) * 1000));
await runner.stop();
await sql.end();
process.exit(0);
