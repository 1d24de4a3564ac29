// One Koban node for bench/scaling.ts, in a process of its own: it loads, prints "ready", starts
// running the queue on "go" (so that start-up is not timed), and stops on "stop".
// Usage: node --import tsx bench/scaling-node.ts <dbUrl> <queue limit>
import { createInterface } from 'node:readline';
import { Koban } from '../index.js';
import { quietLogger } from './rounds.js';
import { Noop } from './scaling-worker.js';

const [url, limit] = process.argv.slice(2);
if (!url || !Number(limit)) throw new Error('usage: scaling-node.ts <dbUrl> <queue limit>');

let koban: Koban | undefined;
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') {
    koban = await Koban.start({
      database: url,
      queues: { bench: Number(limit) },
      workers: [Noop],
      logger: quietLogger,
    });
  } else if (line === 'stop') {
    await koban?.stop();
    break;
  }
}
process.exit(0);
