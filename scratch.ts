import { Koban, defineWorker, newJob, type Job } from './index.js';
class Noop { async process(job: Job<{ n: number }>) {} }
defineWorker(Noop, { queue: 'bench' });
for (const url of [process.argv[2], undefined]) {
  const ins = await Koban.start({ database: url, queues: {} });
  await ins.db.execute('truncate koban.jobs' as any).catch(()=>{});
  const n = 20000;
  let t = performance.now();
  await ins.insertAll(Array.from({ length: n }, (_, i) => newJob(Noop, { n: i })));
  console.log(url ? 'pg' : 'pglite', 'insert/s', Math.round(n / ((performance.now() - t) / 1000)));
  if (url) await ins.stop();
  let done = 0;
  t = performance.now();
  const k = url ? await Koban.start({ database: url, queues: { bench: 1000 } }) : ins;
  if (!url) { (k as any).__x = 1; }
  const w = url ? k : await Koban.start({ database: undefined, queues: { bench: 1000 } }).catch(()=>null);
  await new Promise<void>((resolve) => { k.on('job:stop', () => { if (++done === n) resolve(); }); if (!url) resolve(); });
  if (url) console.log('process/s', Math.round(n / ((performance.now() - t) / 1000)));
  await k.stop();
}
