import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import {
  batch,
  Koban,
  KobanValidationError,
  toMermaid,
  type Workflow,
  type WorkflowStatus,
  workflow,
} from 'koban';
import {
  AuditLogWorker,
  AuditWorker,
  DigestWorker,
  EmailBatchWorker,
  ExtractWorker,
  HeartbeatWorker,
  LoadWorker,
  MergeWorker,
  TransformWorker,
  workers,
} from './koban.gen.js';
import { Checks, log, section, stateTable, waitUntil } from './report.js';
import { batchEvents } from './workers/emails.js';
import { seenByAudit } from './workers/misc.js';

// The whole Oban Pro seed in one run: a workflow with fan-out, fan-in and an appended step, two
// email batches and their callbacks, a structured and encrypted job, a unique job, and cron.
// With DATABASE_URL it runs on that server; without, on embedded PostgreSQL (PGlite).

const checks = new Checks();
const started = Date.now();
section(
  `starting Koban on ${process.env.DATABASE_URL ? 'the server in DATABASE_URL' : 'embedded PostgreSQL (no server needed)'}`,
);
/** Koban's log lines (pino's order: details, then the message), printed as the demo's own. */
const logged = (details: object | string, message?: string) =>
  log(typeof details === 'string' ? details : `${message}`);
const koban = await Koban.start({
  database: process.env.DATABASE_URL,
  queues: { pipelines: 5, mailers: 5, secure: 2, default: 2 },
  workers,
  cron: [{ expression: '* * * * * *', worker: HeartbeatWorker }],
  pollInterval: 200,
  stageInterval: 100,
  logger: { info: logged, warn: logged, error: logged },
});
koban.on('job:exception', ({ job, error }) =>
  log(`  ${job.worker}#${job.id} attempt ${job.attempt} failed: ${(error as Error).message}`),
);

section('1. an import pipeline: extract → 3 transforms → merge → load');
const transforms = ['transform_0', 'transform_1', 'transform_2'];
// Steps added in a loop have names the compiler cannot know: the workflow is typed loosely.
const fannedOut = transforms.reduce<Workflow<any>>(
  (flow, name, partition) => flow.add(name, TransformWorker.new({ partition }), { deps: ['extract'] }),
  workflow({ workflowName: 'import pipeline' }).add(
    'extract',
    ExtractWorker.new({ source: 'orders.csv', partitions: transforms.length }),
  ),
);
const flow = fannedOut
  .add('merge', MergeWorker.new({}), { deps: transforms })
  .add('load', LoadWorker.new({ table: 'orders' }), { deps: ['merge'] });
const [extract] = await koban.insertAll(flow);
const workflowId = extract!.workflowId!;
log(`inserted workflow ${workflowId}: extract runs, the other steps are held until their deps finish`);
await waitUntil('extract to start', async () => (await koban.getJob(extract!.id))?.state !== 'available');
const [audit] = await koban.appendWorkflow(workflowId, (running) =>
  running.add('audit', AuditWorker.new({ expected: 330 }), { deps: ['load'] }),
);
log(`appended step "audit" to the running workflow; it waits for "load" (now ${audit!.state})`);

section("2. two email batches, built with one batch id per batch (the seed's form)");
const newsletter = randomUUID();
const reminders = randomUUID();
await koban.insertAll(
  batch(
    ['ada@example.com', 'grace@example.com'].map((email) => EmailBatchWorker.new({ email })),
    {
      batchId: newsletter,
      batchName: 'newsletter',
    },
  ),
);
await koban.insertAll(
  ['linus@example.com', 'broken@example.com'].map((email) =>
    EmailBatchWorker.new({ email }, { batchId: reminders }),
  ),
);
log('newsletter: 2 addresses; reminders: 2 addresses, one of which fails until it is exhausted');

section('3. a structured, encrypted job');
const auditJob = await koban.insert(
  AuditLogWorker.new({ userId: 'user-42', action: 'password.change', metadata: { ip: '10.0.0.7' } }),
);
const [stored] = await koban.db
  .select({ args: koban.tables.jobs.args })
  .from(koban.tables.jobs)
  .where(eq(koban.tables.jobs.id, BigInt(auditJob.id)));
const envelope = JSON.stringify(stored!.args);
log(`stored in the jobs table: ${envelope.slice(0, 110)}…`);
try {
  await koban.insert(AuditLogWorker.new({ userId: 'user-42' } as never));
} catch (error) {
  checks.that('a job without its required args is refused', error instanceof KobanValidationError);
  log(`refused at insert: ${(error as Error).message}`);
}

section('4. a unique job inserted twice');
const first = await koban.insert(DigestWorker.new({ userId: 7, kind: 'daily' }));
const second = await koban.insert(DigestWorker.new({ userId: 7, kind: 'weekly' }));
log(
  `first insert: job ${first.id} (conflict: ${first.conflict}); second: job ${second.id} (conflict: ${second.conflict})`,
);
checks.that(
  'the second insert returns the first job as a conflict',
  second.conflict && second.id === first.id,
);

section('5. waiting for everything to finish (cron inserts a heartbeat every second meanwhile)');
const status: WorkflowStatus = await waitUntil('the workflow', async () => {
  const current = await koban.workflowStatus(workflowId);
  return current?.state === 'executing' ? null : current;
});
await waitUntil(
  'both batches',
  async () =>
    (await koban.batchStatus(newsletter))?.finished && (await koban.batchStatus(reminders))?.finished,
);
await waitUntil('the batch callbacks', () => batchEvents.length === 2);
await waitUntil('the audit log job', () => seenByAudit.length === 1);
await waitUntil(
  'a heartbeat',
  async () => (await koban.listJobs({ worker: 'HeartbeatWorker', state: 'completed' })).length > 0,
);

const merged = await MergeWorker.fetchRecorded(
  koban,
  status.steps.find((step) => step.name === 'merge')!.jobId,
);
const audited = await AuditWorker.fetchRecorded(koban, audit!.id);
log(`merge recorded ${JSON.stringify(merged.status === 'ok' ? merged.value : merged)}`);
const batchNames = new Map<string, string>([
  [newsletter, 'newsletter'],
  [reminders, 'reminders'],
]);
const callbacks = batchEvents
  .map(
    (event) =>
      `${batchNames.get(event.batchId)}: ${event.callback} (${event.completed} sent, ${event.discarded} failed)`,
  )
  .sort();
for (const callback of callbacks) log(`callback ran: ${callback}`);
log(`AuditLogWorker received ${JSON.stringify(seenByAudit[0])}`);

checks.that('every workflow step completed', status.state === 'completed' && status.counts.completed === 7);
checks.that('merge read the three transforms', merged.status === 'ok' && merged.value.rows === 330);
checks.that('the appended audit step saw the loaded rows', audited.status === 'ok' && audited.value.ok);
checks.that(
  'each batch ran its own callback once',
  callbacks.join(' | ') ===
    'newsletter: handleCompleted (2 sent, 0 failed) | reminders: handleExhausted (1 sent, 1 failed)',
);
checks.that(
  'the stored args are ciphertext',
  envelope.includes('$koban_encrypted') && !envelope.includes('user-42'),
);
checks.that('process received the plaintext args', seenByAudit[0]?.metadata?.ip === '10.0.0.7');

section('job states');
console.log(stateTable(await koban.listJobs({ limit: 1000 })));
section('the workflow, as Mermaid');
console.log(toMermaid(status));

await koban.stop();
log(`finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(checks.report());
