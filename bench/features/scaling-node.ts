// One Koban node of the scaling rows, in a process of its own: it loads, prints "ready", starts
// running the queue on "go" (so that start-up is not timed), and on "stop" prints the CPU it used
// since "go" (`cpu <µs>`) and stops.
// Usage: node <build>/bench/features/scaling-node.js <dbUrl> <queue limit>
import { createInterface } from 'node:readline';
import type { Koban as KobanType } from '../../index.js';
import { quietLogger } from '../koban-dist.js';
import { koban as module, Noop } from './noop-worker.js';

const [url, limit] = process.argv.slice(2);
if (!url || !Number(limit)) throw new Error('usage: scaling-node.js <dbUrl> <queue limit>');

let koban: KobanType | undefined;
let since: NodeJS.CpuUsage | undefined;
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') {
    since = process.cpuUsage();
    koban = await module.Koban.start({
      database: url,
      queues: { bench: Number(limit) },
      workers: [Noop],
      logger: quietLogger,
    });
  } else if (line === 'stop') {
    const used = process.cpuUsage(since);
    process.stdout.write(`cpu ${used.user + used.system}\n`);
    await koban?.stop();
    break;
  }
}
process.exit(0);
