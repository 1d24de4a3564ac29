import { defineWorker, type Job, Koban, newJob } from '../../../index.js';

// A node that hands shutdown to `koban.stopOnSignals()`:
//   node --import tsx test/runtime/support/signal-node.ts <database url>
// Its one job prints `started`, then keeps running until the process gets SIGTERM, and finishes
// a moment after: only a graceful stop lets it complete.

class UntilSignalWorker {
  async process(_job: Job<{ label: string }>) {
    const signalled = new Promise((resolve) => process.once('SIGTERM', resolve));
    process.stdout.write('started\n');
    await signalled;
    await new Promise((resolve) => setTimeout(resolve, 100));
    return 'finished after the signal';
  }
}
defineWorker(UntilSignalWorker, { queue: 'signals' });

const koban = await Koban.start({
  database: process.argv[2],
  queues: { signals: 1 },
  workers: [UntilSignalWorker],
  logger: { info() {}, warn() {}, error: (message) => process.stderr.write(`${message}\n`) },
  pollInterval: 100,
});
koban.stopOnSignals();
const job = await koban.insert(newJob(UntilSignalWorker, { label: 'in flight' }));
process.stdout.write(`${JSON.stringify({ job: job.id })}\n`);
