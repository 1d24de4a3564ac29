import type { KobanOps } from '../runtime/ops/ops.js';
import type { JobRecord } from '../sdk/job.js';
import { type CliOptions, integerOption, searchOf, UsageError } from './options.js';
import { type CliIo, duration, exitCodes, json, progressLine, table, time } from './output.js';

/** `koban jobs`: a page of the search, newest first; `--cursor` reads the next. */
export async function listJobs(ops: KobanOps, values: CliOptions, io: CliIo): Promise<number> {
  const page = await ops.searchJobs(searchOf(values), {
    limit: integerOption(values.limit, 'limit') ?? 20,
    cursor: values.cursor,
  });
  if (values.json) {
    io.stdout.write(json(page));
    return exitCodes.ok;
  }
  io.stdout.write(
    table(
      ['id', 'state', 'queue', 'worker', 'attempt', 'inserted', 'tags'],
      page.jobs.map((job) => [
        job.id,
        job.state,
        job.queue,
        job.worker,
        `${job.attempt}/${job.maxAttempts}`,
        time(job.insertedAt),
        job.tags.join(','),
      ]),
    ),
  );
  if (page.searched)
    io.stdout.write(
      `searched ids ${page.searched.fromId} down to ${page.searched.toId}; older jobs may match too: koban jobs … --cursor ${page.next}\n`,
    );
  else if (page.next) io.stdout.write(`more: koban jobs … --cursor ${page.next}\n`);
  return exitCodes.ok;
}

/** `koban job <id>`: every field, the errors with their stacks, the recorded value. */
export async function showJob(
  ops: KobanOps,
  id: string | undefined,
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  if (!id) throw new UsageError('koban job <id>: give a job id');
  const detail = await ops.job(id);
  if (!detail) {
    io.stderr.write(`no job ${id}: never inserted, or pruned or deleted\n`);
    return exitCodes.notFound;
  }
  if (values.json) {
    io.stdout.write(json(detail));
    return exitCodes.ok;
  }
  const job = detail.job as JobRecord<unknown>;
  const lines = [
    `job ${job.id}  ${job.worker}  ${job.state}`,
    `queue ${job.queue}, priority ${job.priority}, attempt ${job.attempt} of ${job.maxAttempts}`,
    `inserted ${time(job.insertedAt)}, scheduled ${time(job.scheduledAt)}, attempted ${time(job.attemptedAt)}`,
    `finished ${time(job.completedAt ?? job.cancelledAt ?? job.discardedAt)}, by ${job.attemptedBy.join(', ') || '—'}`,
    job.workflowId ? `workflow ${job.workflowId}, step ${job.workflowStep}` : '',
    job.batchId ? `batch ${job.batchId}${job.batchCallback ? `, callback ${job.batchCallback}` : ''}` : '',
    `tags ${job.tags.join(', ') || '—'}`,
    `args ${JSON.stringify(job.args)}`,
    `meta ${JSON.stringify(job.meta)}`,
    `recorded ${detail.recorded.status === 'ok' ? JSON.stringify(detail.recorded.value) : `(${detail.recorded.status}) ${'message' in detail.recorded ? detail.recorded.message : ''}`}`,
    ...job.errors.flatMap((error) => [
      `error (attempt ${error.attempt}, ${error.at}): ${error.error}`,
      ...(error.stack ? [error.stack.replace(/^/gm, '    ')] : []),
    ]),
  ];
  io.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
  return exitCodes.ok;
}

/** `koban retry|cancel|delete <ids…|--filter …>`: counted first; `--dry-run` stops there. */
export async function bulk(
  ops: KobanOps,
  action: 'retry' | 'cancel' | 'delete',
  ids: readonly string[],
  values: CliOptions,
  io: CliIo,
): Promise<number> {
  const search = searchOf(values);
  const hasFilter = Object.keys(search).length > 0;
  if (ids.length > 0 && hasFilter) throw new UsageError(`koban ${action}: give ids or a filter, not both`);
  if (ids.length === 0 && !hasFilter) {
    throw new UsageError(
      `koban ${action}: give job ids, or a filter (--filter state=retryable, --queue mailers, …)`,
    );
  }
  if (values.reason !== undefined && action !== 'cancel')
    throw new UsageError('--reason: only cancel takes a reason');
  const target = ids.length > 0 ? ids : { filter: search };
  const options = {
    dryRun: values['dry-run'] ?? false,
    batchSize: integerOption(values['batch-size'], 'batch-size'),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    onProgress: values.json
      ? undefined
      : (step: { done: number; total: number }) => progressLine(io, action, step.done, step.total),
  };
  const run = action === 'cancel' ? ops.cancelJobs : action === 'retry' ? ops.retryJobs : ops.deleteJobs;
  const result = await run.call(ops, target, options);
  if (values.json) io.stdout.write(json(result));
  else if (result.dryRun)
    io.stdout.write(`${action} would touch ${result.total} job(s); nothing changed (--dry-run)\n`);
  else io.stdout.write(`${action}: ${result.changed} of ${result.total} job(s) changed\n`);
  return exitCodes.ok;
}

export { duration };
