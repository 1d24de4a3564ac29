// What a run measures: rows (one table line or more each), and in every row the cases that are
// measured once per repetition, alternated. Peer rows compare systems; feature rows compare a
// Koban feature with plain Koban; in an A/B run every Koban case is measured for both builds.
import type { Config, RowName, SystemName } from './flags.js';
import type { Measurement } from './spawn.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/** A: the working tree; B: the `--against` ref. */
export type Build = 'A' | 'B';

export interface Case {
  /** Unique within its row. */
  readonly key: string;
  /** The system and setting, as the table shows it. */
  readonly label: string;
  readonly system: SystemName;
  readonly build: Build;
  /** Feature rows: the plain baseline, or a feature (named) measured against it. */
  readonly feature?: string;
  readonly measurement: Omit<Measurement, 'dist'>;
}

export interface Row {
  readonly name: RowName;
  readonly kind: 'peers' | 'feature';
  readonly title: string;
  readonly latency: boolean;
  readonly cases: readonly Case[];
}

const systemTitles: Record<SystemName, string> = {
  koban: 'Koban',
  graphile: 'graphile-worker',
  pgboss: 'pg-boss',
  'bullmq-pg': 'BullMQ on PostgreSQL',
  'bullmq-redis': 'BullMQ on Redis',
  ceiling: 'ceiling',
};

type Scenario = 'insert' | 'process' | 'latency';

const insertApis: Record<SystemName, string> = {
  koban: 'insertAll',
  graphile: 'addJobs',
  pgboss: 'insert',
  'bullmq-pg': 'addBulk',
  'bullmq-redis': 'addBulk',
  ceiling: 'one INSERT … unnest',
};

/** Inserts need no worker setting; BullMQ's option names its backend. */
function insertOption(config: Config, system: SystemName): string | undefined {
  if (system === 'bullmq-pg') return `postgres:${config.bullmqPg}`;
  if (system === 'bullmq-redis') return `redis:${config.bullmqRedis}`;
  return undefined;
}

/** The settings each system is measured at, per scenario: `[option, label]`. */
function settings(config: Config, system: SystemName, scenario: Scenario): [string | undefined, string][] {
  const limits = config.kobanLimits.map((limit): [string, string] => [String(limit), `limit ${limit}`]);
  const graphile = config.graphileConfigs.map((option): [string, string] => [option, option]);
  if (scenario === 'insert' && system !== 'ceiling')
    return [[insertOption(config, system), insertApis[system]]];
  switch (system) {
    case 'koban':
      return scenario === 'process' ? limits : [limits[0]!];
    case 'graphile':
      return scenario === 'process' ? graphile : [graphile[Math.min(1, graphile.length - 1)]!];
    case 'pgboss':
      return scenario === 'latency' ? [['100', 'batch 100']] : [['500', 'batch 500']];
    case 'bullmq-pg':
      return [[`postgres:${config.bullmqPg}`, `concurrency ${config.bullmqPg}`]];
    case 'bullmq-redis':
      return [[`redis:${config.bullmqRedis}`, `concurrency ${config.bullmqRedis}`]];
    case 'ceiling':
      if (scenario === 'latency') return [];
      if (scenario === 'insert') return [[undefined, insertApis.ceiling]];
      return config.ceilingSql.map((variant) => [
        `${variant}:${config.ceilingBatch}`,
        `${variant}, batch ${config.ceilingBatch}`,
      ]);
  }
}

export function plan(config: Config, refLabel: string | undefined): Row[] {
  const builds: Build[] = refLabel ? ['A', 'B'] : ['A'];
  const buildLabel = (build: Build) =>
    !refLabel ? '' : build === 'A' ? ' [working tree]' : ` [${refLabel}]`;
  const scripts: Record<SystemName, string> = {
    koban: 'peers/koban',
    graphile: 'peers/graphile',
    pgboss: 'peers/pgboss',
    'bullmq-pg': 'peers/bullmq',
    'bullmq-redis': 'peers/bullmq',
    ceiling: 'peers/ceiling',
  };

  const peerRow = (name: RowName, title: string, scenario: Scenario, n: number): Row => {
    const cases: Case[] = [];
    for (const system of config.systems) {
      for (const [option, setting] of settings(config, system, scenario)) {
        for (const build of system === 'koban' ? builds : (['A'] as const)) {
          const label = `${systemTitles[system]}${setting ? ` (${setting})` : ''}${system === 'koban' ? buildLabel(build) : ''}`;
          const measurement = {
            script: scripts[system],
            scenario,
            n,
            ...(option === undefined ? {} : { option }),
          };
          cases.push({ key: `${system}@${option ?? ''}#${build}`, label, system, build, measurement });
        }
      }
    }
    return { name, kind: 'peers', title, latency: scenario === 'latency', cases };
  };

  /** A feature row: the baseline and each feature, per build. */
  const featureRow = (
    name: RowName,
    title: string,
    script: string,
    baseline: { scenario: string; n: number; option?: string },
    features: { name: string; scenario: string; n: number; option?: string }[],
  ): Row => {
    const cases: Case[] = [];
    for (const build of builds) {
      const plain = {
        key: `plain#${build}`,
        label: `plain${buildLabel(build)}`,
        system: 'koban' as const,
        build,
      };
      cases.push({ ...plain, measurement: { script, ...baseline } });
      for (const { name: feature, ...measurement } of features) {
        cases.push({
          key: `${feature}#${build}`,
          label: `${feature}${buildLabel(build)}`,
          system: 'koban',
          build,
          feature,
          measurement: { script, ...measurement },
        });
      }
    }
    return { name, kind: 'feature', title, latency: false, cases };
  };

  const { jobs, big, width, cascade, chain, small, batch, scaleJobs, historyJobs, history } = config;
  const rows: Row[] = [
    peerRow('insert', `bulk insert ${fmt(jobs)} jobs (jobs/s)`, 'insert', jobs),
    peerRow('process', `process ${fmt(jobs)} no-op jobs (jobs/s)`, 'process', jobs),
    ...(big > 0 ? [peerRow('process-big', `process ${fmt(big)} no-op jobs (jobs/s)`, 'process', big)] : []),
    peerRow(
      'latency',
      `insert→start latency, ${config.latencyJobs} jobs 20 ms apart (ms)`,
      'latency',
      config.latencyJobs,
    ),
  ];
  const pro = 'features/pro';
  const chunkJobs = Math.min(10_000, jobs);
  const flows = 'features/flows';
  const scaling = 'features/scaling';
  const limits = 'features/limits';
  if (config.systems.has('koban')) {
    rows.push(
      featureRow('unique', `insertAll ${fmt(jobs)} jobs`, pro, { scenario: 'insert-plain', n: jobs }, [
        { name: 'unique', scenario: 'insert-unique', n: jobs },
      ]),
      featureRow('encrypted', `process ${fmt(jobs)} jobs`, pro, { scenario: 'process-plain', n: jobs }, [
        { name: 'encrypted', scenario: 'process-encrypted', n: jobs },
      ]),
      featureRow(
        'chunks',
        `process ${fmt(chunkJobs)} jobs`,
        pro,
        { scenario: 'process-plain', n: chunkJobs },
        [{ name: 'chunks of 100', scenario: 'process-chunked', n: chunkJobs }],
      ),
      featureRow(
        'telemetry',
        `process ${fmt(jobs)} jobs`,
        'features/telemetry',
        { scenario: 'process-plain', n: jobs },
        [
          { name: 'OpenTelemetry', scenario: 'process-traced', n: jobs },
          { name: 'its SDK calls alone', scenario: 'process-sdk-calls', n: jobs },
        ],
      ),
      featureRow('fan-out', `fan-out 1 → ${fmt(width)} → 1`, flows, { scenario: 'plain', n: width + 2 }, [
        { name: 'workflow', scenario: 'fan-out', n: width },
      ]),
      featureRow('cascade', `cascade 1 → ${fmt(cascade)} → 1`, flows, { scenario: 'plain', n: cascade + 2 }, [
        { name: 'workflow', scenario: 'fan-out', n: cascade },
        { name: 'cascade', scenario: 'cascade', n: cascade },
      ]),
      featureRow('chain', `chain of ${fmt(chain)} steps`, flows, { scenario: 'plain', n: chain }, [
        { name: 'workflow', scenario: 'chain', n: chain },
      ]),
      featureRow(
        'small-workflows',
        `${fmt(small)} three-step workflows`,
        flows,
        { scenario: 'plain', n: small * 3 },
        [{ name: 'workflows', scenario: 'small-workflows', n: small }],
      ),
      featureRow(
        'batch',
        `batch of ${fmt(batch)} to handleCompleted`,
        flows,
        { scenario: 'plain', n: batch },
        [{ name: 'batch', scenario: 'batch', n: batch }],
      ),
      featureRow(
        'processes',
        `process ${fmt(scaleJobs)} jobs, N processes vs 1`,
        scaling,
        { scenario: 'processes', n: scaleJobs, option: '1' },
        config.processes.map((nodes) => ({
          name: `${nodes} processes`,
          scenario: 'processes',
          n: scaleJobs,
          option: String(nodes),
        })),
      ),
      featureRow(
        'history',
        `process ${fmt(historyJobs)} jobs, history vs none`,
        scaling,
        { scenario: 'history', n: historyJobs, option: '0' },
        [
          {
            name: `${fmt(history)} completed rows`,
            scenario: 'history',
            n: historyJobs,
            option: String(history),
          },
        ],
      ),
      featureRow(
        'limits',
        `process ${fmt(jobs)} jobs, cluster-wide limits`,
        limits,
        { scenario: 'plain', n: jobs },
        [
          { name: 'global limit 1000', scenario: 'global', n: jobs },
          { name: '100 partitions × 10', scenario: 'partitions', n: jobs },
        ],
      ),
    );
  }
  return rows.filter((row) => config.rows.has(row.name) && row.cases.length > 0);
}
