import type { KobanOps } from '../runtime/ops/ops.js';
import { toMermaid } from '../sdk/mermaid.js';
import { type CliOptions, integerOption, UsageError } from './options.js';
import { type CliIo, duration, exitCodes, json, table, time } from './output.js';

export async function queues(ops: KobanOps, values: CliOptions, io: CliIo): Promise<number> {
  const found = await ops.queues();
  if (values.json) {
    io.stdout.write(json(found));
    return exitCodes.ok;
  }
  io.stdout.write(
    table(
      [
        'queue',
        'paused',
        'available',
        'scheduled',
        'executing',
        'retryable',
        'completed',
        'discarded',
        'cancelled',
        'oldest',
        'nodes',
      ],
      found.map((queue) => [
        queue.name,
        queue.paused ? 'yes' : 'no',
        queue.counts.available,
        queue.counts.scheduled,
        queue.counts.executing,
        queue.counts.retryable,
        queue.counts.completed,
        queue.counts.discarded,
        queue.counts.cancelled,
        duration(queue.oldestAvailableAgeMs),
        queue.nodes
          .map((node) => `${node.node}(${node.running}/${node.limit}${node.paused ? ' paused' : ''})`)
          .join(' ') || '—',
      ]),
    ),
  );
  return exitCodes.ok;
}

export async function queueControl(
  ops: KobanOps,
  action: 'pause' | 'resume' | 'scale',
  args: readonly string[],
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  const [queue, limit] = args;
  if (!queue)
    throw new UsageError(`koban ${action} <queue>${action === 'scale' ? ' <limit>' : ''}: give a queue`);
  if (action === 'pause') await ops.pauseQueue(queue);
  else if (action === 'resume') await ops.resumeQueue(queue);
  else {
    const value = integerOption(limit, 'limit');
    if (value === undefined) throw new UsageError('koban scale <queue> <limit>: give the new limit');
    await ops.scaleQueue(queue, value);
  }
  if (values.json)
    io.stdout.write(json({ queue, action, limit: limit === undefined ? undefined : Number(limit) }));
  else io.stdout.write(`${action} ${queue}${limit ? ` to ${limit}` : ''}: sent to every node\n`);
  return exitCodes.ok;
}

export async function nodes(ops: KobanOps, values: CliOptions, io: CliIo): Promise<number> {
  const found = await ops.nodes();
  if (values.json) {
    io.stdout.write(json(found));
    return exitCodes.ok;
  }
  io.stdout.write(
    table(
      ['node', 'leader', 'alive', 'heartbeat', 'started', 'queues'],
      found.nodes.map((node) => [
        node.name,
        node.leader ? 'yes' : '',
        node.alive ? 'yes' : 'NO',
        `${duration(Date.now() - node.heartbeatAt.getTime())} ago`,
        time(node.startedAt),
        node.queues
          .map((queue) => `${queue.queue}(${queue.running}/${queue.limit}${queue.paused ? ' paused' : ''})`)
          .join(' '),
      ]),
    ),
  );
  io.stdout.write(`leader: ${found.leader ?? 'none'}\n`);
  return exitCodes.ok;
}

export async function cron(
  ops: KobanOps,
  args: readonly string[],
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  const [action, name] = args;
  if (action !== undefined) {
    if (!['run', 'pause', 'resume'].includes(action))
      throw new UsageError(`koban cron ${action}: expected run, pause or resume`);
    if (!name) throw new UsageError(`koban cron ${action} <name>: give the entry's name`);
    if (action === 'run') {
      const job = await ops.runCron(name);
      io.stdout.write(values.json ? json(job) : `cron ${name}: job ${job.id} inserted\n`);
    } else {
      await (action === 'pause' ? ops.pauseCron(name) : ops.resumeCron(name));
      io.stdout.write(values.json ? json({ name, action }) : `cron ${name}: ${action}d on every node\n`);
    }
    return exitCodes.ok;
  }
  const entries = await ops.crons();
  if (values.json) {
    io.stdout.write(json(entries));
    return exitCodes.ok;
  }
  io.stdout.write(
    table(
      ['name', 'source', 'expression', 'worker', 'paused', 'last run', 'last state', 'next run'],
      entries.map((entry) => [
        entry.name,
        entry.source,
        entry.expression,
        entry.worker,
        entry.paused ? 'yes' : '',
        time(entry.lastRun?.insertedAt),
        entry.lastRun?.state,
        time(entry.nextRunAt),
      ]),
    ),
  );
  return exitCodes.ok;
}

export async function workflow(
  ops: KobanOps,
  id: string | undefined,
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  if (!id) {
    const list = await ops.workflows({ limit: integerOption(values.limit, 'limit') ?? 20 });
    io.stdout.write(
      values.json
        ? json(list)
        : table(
            ['workflow', 'inserted', 'steps'],
            list.map((flow) => [
              flow.id,
              time(flow.insertedAt),
              Object.entries(flow.counts)
                .map(([state, n]) => `${state}:${n}`)
                .join(' '),
            ]),
          ),
    );
    return exitCodes.ok;
  }
  const status = await ops.workflow(id);
  if (!status) {
    io.stderr.write(`no workflow ${id}\n`);
    return exitCodes.notFound;
  }
  if (values.json) {
    io.stdout.write(json(status));
    return exitCodes.ok;
  }
  io.stdout.write(`workflow ${status.id}: ${status.state}\n`);
  io.stdout.write(
    table(
      ['step', 'state', 'job', 'worker', 'deps'],
      status.steps.map((step) => [step.name, step.state, step.jobId, step.worker, step.deps.join(', ')]),
    ),
  );
  io.stdout.write(`\n${toMermaid(status)}\n`);
  return exitCodes.ok;
}

export async function batch(
  ops: KobanOps,
  id: string | undefined,
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  if (!id) {
    const list = await ops.batches({ limit: integerOption(values.limit, 'limit') ?? 20 });
    io.stdout.write(
      values.json
        ? json(list)
        : table(
            ['batch', 'name', 'inserted', 'total', 'completed', 'discarded', 'cancelled', 'callbacks'],
            list.map((row) => [
              row.id,
              row.name ?? '',
              time(row.insertedAt),
              row.total,
              row.completed,
              row.discarded,
              row.cancelled,
              row.callbacks
                .map((callback) => (row.fired.includes(callback) ? `${callback} (fired)` : callback))
                .join(', '),
            ]),
          ),
    );
    return exitCodes.ok;
  }
  const status = await ops.batch(id);
  if (!status) {
    io.stderr.write(`no batch ${id}\n`);
    return exitCodes.notFound;
  }
  if (values.json) {
    io.stdout.write(json(status));
    return exitCodes.ok;
  }
  const done = status.counts.completed + status.counts.discarded + status.counts.cancelled;
  io.stdout.write(
    `batch ${status.id}: ${done}/${status.total} finished${status.finished ? ' (done)' : ''}\n`,
  );
  io.stdout.write(
    table(
      ['state', 'jobs'],
      Object.entries(status.counts).filter(([, n]) => n > 0),
    ),
  );
  const pending = status.callbacks.filter((callback) => !status.fired.includes(callback));
  io.stdout.write(
    `callbacks fired: ${status.fired.join(', ') || 'none'}; pending: ${pending.join(', ') || 'none'}\n`,
  );
  return exitCodes.ok;
}
