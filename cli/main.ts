import { KobanOps } from '../runtime/ops/ops.js';
import { KobanError, KobanValidationError } from '../sdk/errors.js';
import { batch, cron, nodes, queueControl, queues, workflow } from './cluster-commands.js';
import { doctor } from './doctor.js';
import { bulk, listJobs, showJob } from './job-commands.js';
import { type CliOptions, parse, UsageError } from './options.js';
import { type CliIo, exitCodes } from './output.js';
import { stats } from './stats-command.js';

export const usage = `Usage: koban <command> [options]

Commands:
  web [--port 4000] [--host 127.0.0.1] [--write]   the dashboard (read only without --write)
  jobs [--state s] [--queue q] [--worker w] [--tag t] [--search text] [--meta text] [--limit n] [--cursor c]
  job <id>
  retry|cancel|delete <ids…> | --filter key=value… [--dry-run] [--reason text] [--batch-size n]
  queues
  pause|resume <queue>
  scale <queue> <limit>
  nodes
  stats [--since 1h|30m|7d|<ISO time>] [--step minutes] [--queue q] [--worker w] [--group worker|queue|none]
  cron [run|pause|resume <name>]
  workflow [<id>]          the steps as a table and as Mermaid
  batch [<id>]
  migrate
  doctor [--generated src/koban.gen.ts]

Every command: --database <url> (or DATABASE_URL), --schema <name> (default koban), --json.
Exit codes: 0 done, 1 failed, 2 bad usage or arguments (nothing changed), 3 not found, 4 doctor found a problem.`;

/** Runs one command line; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let ops: KobanOps | undefined;
  try {
    const { values, positionals } = parse(argv);
    const [command, ...args] = positionals;
    if (!command || values.help || command === 'help') {
      io.stdout.write(`${usage}\n`);
      return command || values.help ? exitCodes.ok : exitCodes.usage;
    }
    if (!commands.has(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    const database = values.database ?? io.env.DATABASE_URL;
    if (!database) throw new UsageError('give --database <postgres://…> or set DATABASE_URL');
    const tools = command === 'migrate' || command === 'doctor';
    ops = await KobanOps.connect({ database, schema: values.schema, verifySchema: !tools, poolSize: 2 });
    if (command === 'web') {
      const { serveDashboard } = await import('./web-command.js');
      const opened = ops;
      ops = undefined; // the server owns it now, and closes it on a signal
      return await serveDashboard(opened, values, io);
    }
    return await run(ops, command, args, values, io);
  } catch (error) {
    return report(error, io);
  } finally {
    await ops?.close();
  }
}

const commands = new Set([
  'web',
  'jobs',
  'job',
  'retry',
  'cancel',
  'delete',
  'queues',
  'pause',
  'resume',
  'scale',
  'nodes',
  'stats',
  'cron',
  'workflow',
  'batch',
  'migrate',
  'doctor',
]);

async function run(
  ops: KobanOps,
  command: string,
  args: string[],
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  switch (command) {
    case 'jobs':
      return listJobs(ops, values, io);
    case 'job':
      return showJob(ops, args[0], values, io);
    case 'retry':
    case 'cancel':
    case 'delete':
      return bulk(ops, command, args, values, io);
    case 'queues':
      return queues(ops, values, io);
    case 'pause':
    case 'resume':
    case 'scale':
      return queueControl(ops, command, args, values, io);
    case 'nodes':
      return nodes(ops, values, io);
    case 'stats':
      return stats(ops, values, io);
    case 'cron':
      return cron(ops, args, values, io);
    case 'workflow':
      return workflow(ops, args[0], values, io);
    case 'batch':
      return batch(ops, args[0], values, io);
    case 'migrate': {
      const result = await ops.migrate();
      io.stdout.write(
        values.json
          ? `${JSON.stringify(result)}\n`
          : result.from === result.to
            ? `schema at version ${result.to}: nothing to do\n`
            : `migrated from version ${result.from} to ${result.to}\n`,
      );
      return exitCodes.ok;
    }
    default:
      return doctor(ops, values, io);
  }
}

function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`koban: ${error.message}\n\n${usage}\n`);
    return exitCodes.usage;
  }
  if (error instanceof KobanValidationError) {
    io.stderr.write(`koban: ${error.message}\n`);
    return exitCodes.usage;
  }
  io.stderr.write(
    `koban: ${error instanceof KobanError ? error.message : ((error as Error).message ?? String(error))}\n`,
  );
  return exitCodes.failed;
}
