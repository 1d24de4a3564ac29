// Koban's hot path alone, to profile: `node --import tsx bench/profile-hot-path.ts insert <url> <jobs>`, then
// `node --cpu-prof --import tsx bench/profile-hot-path.ts run <url> <jobs> <limit>`.
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { defineWorker, type Job, Koban, newJob } from '../index.js';

class Noop {
  async process(_job: Job<{ n: number }>): Promise<void> {}
}
defineWorker(Noop, { queue: 'bench' });

const [mode, url, jobs = '50000', limit = '2000'] = process.argv.slice(2);
const total = Number(jobs);
const quiet = {
  info() {},
  warn() {},
  error: (m: unknown, text?: string) => process.stderr.write(`${typeof m === 'string' ? m : text}\n`),
};
if (mode === 'insert') {
  const producer = await Koban.start({ database: url!, queues: {}, workers: [Noop], logger: quiet });
  const began = performance.now();
  await producer.insertAll(Array.from({ length: total }, (_, n) => newJob(Noop, { n })));
  console.log(JSON.stringify({ insertPerSecond: Math.round((total / (performance.now() - began)) * 1000) }));
  await producer.stop();
  process.exit(0);
}
const sql = postgres(url!, { max: 1, onnotice: () => {} });
await sql`ANALYZE koban.jobs`;
const cpu = process.cpuUsage();
const started = performance.now();
const node = await Koban.start({
  database: url!,
  queues: { bench: Number(limit) },
  workers: [Noop],
  logger: quiet,
});
for (;;) {
  const [row] = await sql`SELECT count(*)::int AS n FROM koban.jobs`;
  if (row!.n === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    jobsPerSecond: Math.round((total / ms) * 1000),
    nodeUsPerJob: (used.user + used.system) / total,
  }),
);
await node.stop();
await sql.end();
