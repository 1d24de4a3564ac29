import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KobanOps } from '../runtime/ops/ops.js';
import type { CliOptions } from './options.js';
import { type CliIo, exitCodes, json } from './output.js';

export interface DoctorCheck {
  readonly check: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly detail: string;
}

/** The indexes every current schema has; a missing or invalid one makes claims or searches slow. */
const expectedIndexes = [
  'jobs_fetch_idx',
  'jobs_staging_idx',
  'jobs_executing_idx',
  'jobs_unique_idx',
  'jobs_workflow_idx',
  'jobs_batch_idx',
  'job_history_id_idx',
  'job_history_queue_idx',
  'job_history_failed_id_idx',
];

/**
 * `koban doctor`: what goes wrong with a job queue on PostgreSQL in production, checked in one
 * go. Exit code 4 when any check fails; warnings alone exit 0.
 */
export async function doctor(ops: KobanOps, values: CliOptions, io: CliIo): Promise<number> {
  const checks: DoctorCheck[] = [];
  const health = await ops.health();
  checks.push({
    check: 'schema version',
    status: health.schemaVersion === health.latestVersion ? 'ok' : 'fail',
    detail:
      health.schemaVersion === health.latestVersion
        ? `${health.schemaVersion} (PostgreSQL ${health.serverVersion})`
        : `${health.schemaVersion}, this Koban needs ${health.latestVersion}: run koban migrate`,
  });
  const names = new Map(health.indexes.map((index) => [index.name, index]));
  const missing = expectedIndexes.filter((name) => !names.has(name));
  const invalid = health.indexes.filter((index) => !index.valid).map((index) => index.name);
  checks.push({
    check: 'indexes',
    status: missing.length + invalid.length === 0 ? 'ok' : 'fail',
    detail:
      missing.length + invalid.length === 0
        ? `${health.indexes.length} present and valid`
        : [
            missing.length ? `missing: ${missing.join(', ')}` : '',
            invalid.length ? `invalid (drop and re-create): ${invalid.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; '),
  });
  for (const table of health.tables.filter((row) =>
    ['jobs', 'job_history', 'nodes', 'queues'].includes(row.name),
  )) {
    const ratio = table.live + table.dead > 0 ? table.dead / (table.live + table.dead) : 0;
    checks.push({
      check: `bloat ${table.name}`,
      status: ratio > 0.5 && table.dead > 10_000 ? 'warn' : 'ok',
      detail: `${table.live} live, ${table.dead} dead rows (${Math.round(ratio * 100)}%), table ${mb(table.bytes)}, indexes ${mb(table.indexBytes)}${ratio > 0.5 && table.dead > 10_000 ? ': vacuum is behind; look for long transactions' : ''}`,
    });
  }
  checks.push({
    check: 'long transactions',
    status: health.longTransactions.length === 0 ? 'ok' : 'warn',
    detail:
      health.longTransactions.length === 0
        ? 'none open over a minute'
        : health.longTransactions
            .map((row) => `pid ${row.pid} open ${Math.round(row.seconds)} s (${row.state}): ${row.query}`)
            .join('; ') + ' — they pin the xmin horizon: dead jobs pile up until they end',
  });
  const listening = await ops.listenWorks(3000);
  checks.push({
    check: 'LISTEN/NOTIFY',
    status: listening ? 'ok' : 'warn',
    detail: listening
      ? 'a NOTIFY reached this connection'
      : 'no NOTIFY arrived in 3 s: a pooler in transaction mode (PgBouncer) drops LISTEN; nodes then find jobs only by polling',
  });
  checks.push(generatedCheck(values, io));
  if (values.json) io.stdout.write(json(checks));
  else
    for (const check of checks)
      io.stdout.write(`${check.status.toUpperCase().padEnd(4)}  ${check.check}: ${check.detail}\n`);
  return checks.some((check) => check.status === 'fail') ? exitCodes.unhealthy : exitCodes.ok;
}

/** Runs `gen --check` on the generated module, when there is one: stale code drifts from the workers. */
function generatedCheck(values: CliOptions, io: CliIo): DoctorCheck {
  const file = resolve(io.cwd, values.generated ?? 'src/koban.gen.ts');
  if (!existsSync(file)) {
    return {
      check: 'generated code',
      status: 'ok',
      detail: `no ${values.generated ?? 'src/koban.gen.ts'} here (give --generated <file>)`,
    };
  }
  const gen = fileURLToPath(new URL('../codegen/bin.js', import.meta.url));
  if (!existsSync(gen))
    return { check: 'generated code', status: 'warn', detail: `cannot find the gen bin at ${gen}` };
  const run = spawnSync(process.execPath, [gen, '--check', '--out', file], { cwd: io.cwd, encoding: 'utf8' });
  return run.status === 0
    ? { check: 'generated code', status: 'ok', detail: `${file} is current` }
    : {
        check: 'generated code',
        status: 'fail',
        detail: `${file} is stale: run npx gen (${(run.stderr || run.stdout).trim().split('\n')[0]})`,
      };
}

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
