import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { defineWorker, type Job, Koban, newJob } from '../index.js';
const mode = process.argv[2] ?? 'unique';
class PlainJob { async process(_job: Job<{ n: number; note: string }>) {} }
defineWorker(PlainJob, { queue: 'bench' });
class UniqueJob { async process(_job: Job<{ n: number; note: string }>) {} }
defineWorker(UniqueJob, { queue: 'bench', unique: { period: 3600, states: 'incomplete' } });
const workers = [PlainJob, UniqueJob];
const logger = { info() {}, warn() {}, error() {} };
const name = `koban_prof_${randomBytes(4).toString('hex')}`;
const admin = postgres('postgres://postgres@127.0.0.1:5432/test', { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
console.log(name);
const koban = await Koban.start({ database: `postgres://postgres@127.0.0.1:5432/${name}`, queues: {}, workers, logger });
const W = mode === 'unique' ? UniqueJob : PlainJob;
for (let r = 0; r < 5; r++) {
  const batch = Array.from({ length: 20000 }, (_, n) => newJob(W as typeof PlainJob, { n: n + r * 20000, note: `customer ${n % 977} order ${n}` }));
  const t = performance.now();
  await koban.insertAll(batch);
  console.log(mode, r, Math.round(20000 / ((performance.now() - t) / 1000)), 'jobs/s');
}
await koban.stop();
if (!process.env.KEEP) await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
