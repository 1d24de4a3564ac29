// The command line of `npm run bench`, with its defaults; every bad value is refused by name.
import { parseArgs } from 'node:util';
import { type CeilingVariant, ceilingVariants } from './ceiling-sql.js';

/** Rows by name, and the group names that select several. */
export const rowNames = [
  'insert',
  'process',
  'process-big',
  'latency',
  'unique',
  'encrypted',
  'chunks',
  'telemetry',
  'fan-out',
  'cascade',
  'chain',
  'small-workflows',
  'batch',
  'processes',
  'history',
  'limits',
] as const;
export type RowName = (typeof rowNames)[number];
/**
 * Selected by name only, never by default: the dashboard's pages on `--pages-rows` jobs
 * (bench/dashboard-pages.ts): a million rows to load, and it measures reads, not processing.
 */
const pagesRow = 'pages';
const rowGroups: Record<string, readonly RowName[]> = {
  processing: ['process', 'process-big'],
  peers: ['insert', 'process', 'process-big', 'latency'],
  pro: ['unique', 'encrypted', 'chunks'],
  workflows: ['fan-out', 'cascade', 'chain', 'small-workflows'],
  batches: ['batch'],
  flows: ['fan-out', 'cascade', 'chain', 'small-workflows', 'batch'],
  scaling: ['processes', 'history'],
  flow: ['limits'],
};

export const systemNames = ['koban', 'graphile', 'pgboss', 'bullmq-pg', 'bullmq-redis', 'ceiling'] as const;
export type SystemName = (typeof systemNames)[number];
const systemGroups: Record<string, readonly SystemName[]> = {
  bullmq: ['bullmq-pg', 'bullmq-redis'],
  'graphile-worker': ['graphile'],
  'pg-boss': ['pgboss'],
};

export interface Config {
  readonly rows: ReadonlySet<RowName>;
  readonly systems: ReadonlySet<SystemName>;
  readonly reps: number;
  readonly jobs: number;
  readonly big: number;
  readonly latencyJobs: number;
  readonly kobanLimits: readonly number[];
  readonly graphileConfigs: readonly string[];
  readonly bullmqPg: number;
  readonly bullmqRedis: number;
  readonly ceilingSql: readonly CeilingVariant[];
  readonly ceilingBatch: number;
  readonly against: string | undefined;
  readonly width: number;
  readonly cascade: number;
  readonly chain: number;
  readonly small: number;
  readonly batch: number;
  readonly scaleJobs: number;
  readonly processes: readonly number[];
  readonly history: number;
  readonly historyJobs: number;
  readonly json: string | undefined;
  /** `--only pages`: the dashboard's pages, on `pagesRows` jobs, `pagesReps` reads of each. */
  readonly pages: boolean;
  readonly pagesRows: number;
  readonly pagesReps: number;
}

const numbers = {
  reps: 'repetitions of every row, alternated',
  jobs: 'jobs of the insert and processing rows, and of the Pro rows',
  big: 'jobs of the large processing row (0 leaves it out)',
  'latency-jobs': 'jobs of the latency row',
  'bullmq-pg': 'BullMQ concurrency on PostgreSQL',
  'bullmq-redis': 'BullMQ concurrency on Redis',
  'ceiling-batch': 'rows per claim of the ceiling loop',
  width: 'width of the fan-out workflow',
  cascade: 'width of the cascade workflow',
  chain: 'steps of the chain workflow',
  small: 'how many three-step workflows',
  batch: 'jobs of the batch',
  'scale-jobs': 'jobs of the processes row',
  history: 'completed rows in the table of the history row',
  'history-jobs': 'jobs of the history row',
  'pages-rows': 'jobs in the table of the pages row',
  'pages-reps': 'reads of each page in the pages row',
} as const;

function list<T extends string>(
  flag: string,
  value: string,
  names: readonly T[],
  groups: Record<string, readonly T[]>,
): Set<T> {
  const chosen = new Set<T>();
  for (const name of value.split(',').filter(Boolean)) {
    const members = groups[name] ?? (names.includes(name as T) ? [name as T] : undefined);
    if (!members)
      throw new Error(
        `--${flag}: unknown name ${name}; one of ${[...names, ...Object.keys(groups), ...(flag === 'only' ? [pagesRow] : [])].join(', ')}`,
      );
    for (const member of members) chosen.add(member);
  }
  return chosen;
}

function count(flag: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${flag} ${value}: expected a whole number ≥ ${min}`);
  return n;
}

function counts(flag: string, value: string): number[] {
  return value.split(',').map((part) => count(flag, part, 0));
}

export function parseFlags(argv: readonly string[]): Config {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      systems: { type: 'string' },
      against: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'koban-limits': { type: 'string' },
      'graphile-configs': { type: 'string' },
      'ceiling-sql': { type: 'string' },
      processes: { type: 'string' },
      json: { type: 'string' },
      ...Object.fromEntries(Object.keys(numbers).map((flag) => [flag, { type: 'string' as const }])),
    },
  });
  const quick = values.quick;
  const get = (flag: keyof typeof numbers) => (values as Record<string, unknown>)[flag] as string | undefined;
  const kobanLimits = counts('koban-limits', values['koban-limits'] ?? '2000');
  const graphileConfigs = (values['graphile-configs'] ?? '10:100,50:500,100:1000,500:1000').split(',');
  for (const config of graphileConfigs) {
    if (!/^\d+:\d+$/.test(config))
      throw new Error(`--graphile-configs: ${config} is not concurrentJobs:localQueue.size, as 50:500`);
  }
  const ceilingSql = [
    ...list('ceiling-sql', values['ceiling-sql'] ?? ceilingVariants.join(','), ceilingVariants, {}),
  ];
  const against = values.against;
  const only = values.only?.split(',') ?? [];
  const pages = only.includes(pagesRow);
  const rows = only.filter((name) => name !== pagesRow);
  return {
    // `--only pages` alone runs the pages row alone; no --only runs every row but that one.
    rows:
      pages && rows.length === 0
        ? new Set<RowName>()
        : list('only', values.only === undefined ? rowNames.join(',') : rows.join(','), rowNames, rowGroups),
    // An A/B run compares Koban with itself unless told otherwise.
    systems: list(
      'systems',
      values.systems ?? (against ? 'koban' : systemNames.join(',')),
      systemNames,
      systemGroups,
    ),
    reps: count('reps', get('reps'), quick ? 1 : 5),
    jobs: count('jobs', get('jobs'), quick ? 5_000 : 20_000),
    big: count('big', get('big'), quick ? 0 : 100_000, 0),
    latencyJobs: count('latency-jobs', get('latency-jobs'), quick ? 50 : 200),
    kobanLimits,
    graphileConfigs,
    bullmqPg: count('bullmq-pg', get('bullmq-pg'), 50),
    bullmqRedis: count('bullmq-redis', get('bullmq-redis'), 100),
    ceilingSql,
    ceilingBatch: count('ceiling-batch', get('ceiling-batch'), kobanLimits[0]!),
    against,
    width: count('width', get('width'), quick ? 2000 : 10_000),
    cascade: count('cascade', get('cascade'), quick ? 200 : 1000),
    chain: count('chain', get('chain'), quick ? 200 : 1000),
    small: count('small', get('small'), quick ? 200 : 1000),
    batch: count('batch', get('batch'), quick ? 5000 : 20_000),
    scaleJobs: count('scale-jobs', get('scale-jobs'), quick ? 20_000 : 100_000),
    processes: counts('processes', values.processes ?? '2,4'),
    history: count('history', get('history'), quick ? 100_000 : 1_000_000),
    historyJobs: count('history-jobs', get('history-jobs'), quick ? 5000 : 20_000),
    json: values.json,
    pages,
    pagesRows: count('pages-rows', get('pages-rows'), quick ? 100_000 : 1_000_000),
    pagesReps: count('pages-reps', get('pages-reps'), quick ? 5 : 20),
  };
}
