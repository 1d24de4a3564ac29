import { Koban } from 'koban';
import {
  FlakyImportWorker,
  HeartbeatWorker,
  ObsoleteTaskWorker,
  ReportWorker,
  WelcomeEmailWorker,
  workers,
} from './koban.gen.js';

// No database given: Koban runs on embedded PostgreSQL (PGlite) in memory.
const log = (message: string) => console.log(`${new Date().toISOString().slice(11, 23)}  ${message}`);
log('starting Koban on embedded PostgreSQL (no server needed)...');
const koban = await Koban.start({
  queues: { default: 5, mailers: 2 },
  workers,
  cron: [{ expression: '*/2 * * * * *', worker: HeartbeatWorker }],
  stageInterval: 200,
  logger: { info: log, warn: log, error: log },
});

koban.on('job:stop', ({ job, outcome, runTime }) =>
  log(`${job.worker}#${job.id} ${outcome.kind} after ${runTime.toFixed(1)} ms (attempt ${job.attempt})`),
);
koban.on('job:exception', ({ job, error }) =>
  log(`${job.worker}#${job.id} failed attempt ${job.attempt}: ${(error as Error).message} (will retry)`),
);

const people = [
  { email: 'ada@example.com', name: 'Ada' },
  { email: 'grace@example.com', name: 'Grace' },
  { email: 'linus@example.com', name: 'Linus' },
];
await koban.insertAll(people.map((person) => WelcomeEmailWorker.new(person)));
await koban.insert(FlakyImportWorker.new({ importId: 7 }));
await koban.insert(ReportWorker.new({ reportId: 3 }));
await koban.insert(ObsoleteTaskWorker.new({ taskId: 9 }));
await koban.insert(WelcomeEmailWorker.new({ email: 'late@example.com', name: 'Late' }, { scheduleIn: 2 }));
log('inserted 7 jobs; one is scheduled 2 s from now, and cron inserts a heartbeat every 2 s');

const deadline = Date.now() + 20_000;
for (;;) {
  const waiting = await koban.listJobs({ state: ['available', 'scheduled', 'executing', 'retryable'] });
  const userJobs = waiting.filter((job) => job.worker !== 'HeartbeatWorker');
  if (userJobs.length === 0) break;
  if (Date.now() > deadline)
    throw new Error(`demo jobs did not finish: ${JSON.stringify(userJobs.map((job) => job.id))}`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}

const all = await koban.listJobs({ limit: 100 });
const heartbeats = all.filter((job) => job.worker === 'HeartbeatWorker').length;
const byState = new Map<string, number>();
for (const job of all) {
  if (job.worker !== 'HeartbeatWorker') byState.set(job.state, (byState.get(job.state) ?? 0) + 1);
}
const summary = [...byState].map(([state, count]) => `${count} ${state}`).join(', ');
log(`done: ${summary}, plus ${heartbeats} cron heartbeat job(s)`);
await koban.stop();
log('stopped');
