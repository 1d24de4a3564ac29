// @ts-nocheck: this file runs inside the older version's source tree, where ./index.js is that version.
// A node of an older Koban, run from that version's source tree (the test copies this file
// there): node --import tsx <tree>/old-node.ts '{"url":...,"node":...}'
// It runs the `upgrade` queue, records each run in public.upgrade_runs, inserts 10 jobs on
// SIGUSR2, prints {"ready":...} once started and {"inserted":n} after each insert, and stops on
// SIGTERM. Only API that every version since v003 has is used.
import postgres from 'postgres';
import { defineWorker, type Job, Koban, newJob } from './index.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { url: string; node: string };
const recorder = postgres(config.url, { max: 2, onnotice: () => {} });

class UpgradeWorker {
  async process(job: Job<{ n: number }>) {
    await recorder`INSERT INTO public.upgrade_runs (job_id, node) VALUES (${job.id}, ${config.node})`;
  }
}
defineWorker(UpgradeWorker, { queue: 'upgrade' });

const koban = await Koban.start({
  database: config.url,
  node: config.node,
  queues: { upgrade: 4 },
  workers: [UpgradeWorker],
  pollInterval: 200,
  stageInterval: 200,
  heartbeatInterval: 500,
  rescueAfter: 5000,
  shutdownGrace: 2000,
  logger: {
    info() {},
    warn: (message: unknown) => console.error(`[${config.node}] warn ${String(message)}`),
    error: (message: unknown, details?: { error?: unknown }) =>
      console.error(`[${config.node}] error ${String(message)}`, details?.error ?? ''),
  },
});
process.stdout.write(`${JSON.stringify({ ready: koban.node })}\n`);

process.on('SIGUSR2', () => {
  void koban
    .insertAll(Array.from({ length: 10 }, (_, n) => newJob(UpgradeWorker, { n: 1000 + n })))
    .then((jobs) => process.stdout.write(`${JSON.stringify({ inserted: jobs.length })}\n`));
});
process.once('SIGTERM', () => {
  void koban
    .stop()
    .then(() => recorder.end())
    .then(() => process.exit(0));
});
