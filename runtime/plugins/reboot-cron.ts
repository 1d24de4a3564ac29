import { newJob } from '../../sdk/job-spec.js';
import type { CronEntry } from '../config.js';
import type { InsertRow } from '../engine/insert.js';
import { prepareJobs } from '../workers/prepare-job.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { cronEntryName, cronJobOptions, workerClassOf } from './cron.js';
import { storedCronJob } from './cron-job.js';
import { rebootExpression } from './cron-schedule.js';
import type { KobanPlugin, PluginContext } from './plugin.js';

/**
 * The `@reboot` entries, from `Koban.start({ cron })` and the database: their jobs are inserted
 * once when this node first becomes the leader after it started, so a cluster runs them once per
 * start of the node that leads it, not once per node.
 */
export function rebootCron(deps: {
  readonly catalog: WorkerCatalog;
  readonly entries: readonly CronEntry[];
}): KobanPlugin {
  let fired = false;
  return {
    name: 'reboot cron',
    leaderOnly: true,
    async start({ engine }: PluginContext) {
      if (fired) return;
      fired = true;
      const meta = (name: string) => ({ cron: name, cronTick: rebootExpression });
      const rows: InsertRow[] = [];
      for (const entry of deps.entries) {
        if (entry.expression.trim() !== rebootExpression) continue;
        const options = cronJobOptions(entry);
        const [row] = await prepareJobs(deps.catalog, [
          newJob(workerClassOf(entry), entry.args ?? {}, {
            ...options,
            meta: { ...options.meta, ...meta(cronEntryName(entry)) },
          }),
        ]);
        rows.push(row!);
      }
      for (const stored of await engine.listCronEntries()) {
        if (stored.paused || stored.expression.trim() !== rebootExpression) continue;
        const row = await storedCronJob(deps.catalog, stored, meta(stored.name));
        if (row) rows.push(row);
      }
      if (rows.length > 0) await engine.insert({ rows });
    },
    stop() {},
  };
}
