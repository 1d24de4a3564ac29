import { parseArgs } from 'node:util';
import type { JobSearch } from '../runtime/engine/job-search.js';

/** Every option any command takes; each command reads the ones it knows. */
export const optionSpec = {
  database: { type: 'string' },
  schema: { type: 'string' },
  json: { type: 'boolean' },
  state: { type: 'string', multiple: true },
  queue: { type: 'string', multiple: true },
  worker: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  search: { type: 'string' },
  meta: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  filter: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  reason: { type: 'string' },
  'batch-size': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  write: { type: 'boolean' },
  generated: { type: 'string' },
  since: { type: 'string' },
  step: { type: 'string' },
  group: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliOptions = ReturnType<typeof parse>['values'];

/** A mistake on the command line: printed with the usage, exit code 2, nothing changed. */
export class UsageError extends Error {}

export function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: optionSpec, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new UsageError(`--${name}: expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** The search the filter flags describe: --state, --queue, --worker, --tag, --search, --meta. */
export function searchOf(values: CliOptions): JobSearch {
  const search: Record<string, unknown> = {};
  if (values.state) search.state = values.state.flatMap(splitList);
  if (values.queue) search.queue = values.queue.flatMap(splitList);
  if (values.worker) search.worker = values.worker.flatMap(splitList);
  if (values.tag) search.tags = values.tag.flatMap(splitList);
  if (values.search !== undefined) search.args = values.search;
  if (values.meta !== undefined) search.meta = values.meta;
  for (const pair of values.filter ?? []) {
    const match = /^([a-zA-Z]+)=(.*)$/.exec(pair);
    if (!match)
      throw new UsageError(
        `--filter: expected key=value (state=retryable, queue=mailers), got ${JSON.stringify(pair)}`,
      );
    const [, key, value] = match as unknown as [string, string, string];
    const field = {
      state: 'state',
      queue: 'queue',
      worker: 'worker',
      tag: 'tags',
      args: 'args',
      search: 'args',
      meta: 'meta',
      workflow: 'workflowId',
      batch: 'batchId',
    }[key];
    if (!field) {
      throw new UsageError(
        `--filter ${key}: unknown key; expected state, queue, worker, tag, args, meta, workflow or batch`,
      );
    }
    if (field === 'args' || field === 'meta' || field === 'workflowId' || field === 'batchId')
      search[field] = value;
    else search[field] = [...((search[field] as string[] | undefined) ?? []), ...splitList(value)];
  }
  return search as JobSearch;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
