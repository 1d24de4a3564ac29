import type { PGlite } from '@electric-sql/pglite';
import { faultError, KobanConfigError } from '../sdk/errors.js';
import type { JsonObject } from '../sdk/job.js';
import type { WorkerEntry } from '../sdk/registry.js';
import type { ArgsOf, WorkerClass } from '../sdk/worker.js';
import { checkQueueName } from '../sdk/worker-options.js';
import { defaultStatementDeadline } from './database/database.js';
import { isPostgresUrl } from './database/database-url.js';
import type { DrizzleDatabase } from './database/executor.js';
import { defaultConnectTimeout, defaultReconnectDelay } from './database/open-database.js';
import type { FlowLimits } from './engine/flow.js';
import { checkFlow, type QueueFlowOptions } from './node/flow-options.js';
import { consoleLogger, type KobanLogger, type LogLevel, levelledLogger, logLevels } from './node/logger.js';
import type { KobanPlugin } from './plugins/plugin.js';
import type { OpenTelemetryOptions } from './telemetry/open-telemetry.js';
import { defaultMaxArgsBytes } from './workers/args-size.js';
import { type BeforeNewHook, checkBeforeNew } from './workers/before-new.js';

/**
 * A queue this node runs: its local limit, and the cluster-wide limits it shares with every other
 * node (see QueueFlowOptions). A job starts only when every limit allows it.
 */
export interface QueueConfig extends QueueFlowOptions {
  /** Jobs of this queue that run at once on this node. Default: the global limit, when there is one. */
  limit?: number | undefined;
  /** Start paused. */
  paused?: boolean | undefined;
}

/** A queue as the node runs it: its local limit and its cluster-wide limits, checked. */
export interface ResolvedQueue {
  readonly limit: number;
  readonly paused: boolean;
  readonly flow: FlowLimits;
}

/** A worker class, or the builder `npx gen` exports for it. */
export type CronWorker = WorkerClass | { readonly worker: WorkerClass };

/** The class of a cron entry's worker, given as a class or a builder. */
export type CronWorkerClass<T> = T extends { readonly worker: infer W } ? W : T;

/**
 * One periodic job. `args` are typed from the worker's `process(job: Job<Args>)` and checked
 * at `Koban.start` (with the generated validator when the worker is given as its builder or is in
 * `workers` from `npx gen`), so that a wrong shape fails at start rather than at each tick.
 */
export interface CronEntry<T extends CronWorker = CronWorker> {
  /** A standard cron expression (5 fields, or 6 with seconds), or a nickname like `@hourly`. */
  expression: string;
  /** The worker to run, as a class or a builder from `npx gen`; its default options apply. */
  worker: T;
  /** The job's args. Default `{}`. */
  args?: ArgsOf<CronWorkerClass<T>> | undefined;
  /** An IANA zone such as `Europe/Paris`. Default UTC. */
  timezone?: string | undefined;
  /** Distinguishes two entries of the same worker. Default: the worker name and expression. */
  name?: string | undefined;
  /** The jobs' queue, over the worker's. */
  queue?: string | undefined;
  /** The jobs' priority (0 first, up to 9), over the worker's. */
  priority?: number | undefined;
  /** The jobs' attempts, over the worker's. */
  maxAttempts?: number | undefined;
  tags?: readonly string[] | undefined;
  meta?: JsonObject | undefined;
}

/** Cron entries, each typed by its own worker: `Koban.start({ cron: [...] })` infers one per entry. */
export type CronEntries<Workers extends readonly CronWorker[] = readonly CronWorker[]> = {
  readonly [K in keyof Workers]: CronEntry<Workers[K]>;
};

/**
 * What `Koban.start` takes. Every option may be `undefined` (the default applies), so that values
 * read from the environment fit under `exactOptionalPropertyTypes`:
 * `{ database: process.env.DATABASE_URL }`.
 */
export interface KobanConfig<CronWorkers extends readonly CronWorker[] = readonly CronWorker[]> {
  /** A postgres:// URL, a Drizzle instance (postgres-js or pglite), a PGlite instance, or nothing for in-memory PGlite. */
  database?: string | DrizzleDatabase | PGlite | undefined;
  /** With no `database`: a directory where embedded PGlite keeps its data. */
  dataDir?: string | undefined;
  /** The PostgreSQL schema of Koban's tables. Default `koban`. */
  schema?: string | undefined;
  /** Queues this node runs, with their concurrency: `{ default: 10, mailers: { limit: 20 } }`. */
  queues?: Record<string, number | QueueConfig> | undefined;
  /** The workers this node knows: classes, or the `workers` registry from `npx gen`. Default: every defined worker. */
  workers?: readonly (WorkerClass | WorkerEntry)[] | undefined;
  /** Apply migrations at start. Default true. */
  migrate?: boolean | undefined;
  /** This node's name; default host name and a random suffix. */
  node?: string | undefined;
  /** Milliseconds between fetches when no NOTIFY arrives. Default 1000. */
  pollInterval?: number | undefined;
  /** Milliseconds between moves of due scheduled jobs to available, and between the leader's ends of jobs past their deadline. Default 1000. */
  stageInterval?: number | undefined;
  /** Milliseconds between node heartbeats. Default 5000. */
  heartbeatInterval?: number | undefined;
  /**
   * Milliseconds without a heartbeat after which a node counts as dead and the leader rescues its
   * executing jobs (they run again). At least 3 × `heartbeatInterval` + `blockTolerance`.
   * Default 60000, or that minimum if it is longer.
   */
  rescueAfter?: number | undefined;
  /**
   * The longest stretch, in milliseconds, that synchronous work may block a node's event loop
   * (no heartbeat goes out meanwhile) without its jobs being rescued and run twice: `rescueAfter`
   * must cover it. The node warns when a block reaches half of it. Default 5000.
   */
  blockTolerance?: number | undefined;
  /** Milliseconds `stop()` waits for running jobs. Default 15000. */
  shutdownGrace?: number | undefined;
  /** Delete completed, cancelled and discarded jobs older than `maxAge` seconds. Default 7 days; false keeps them. */
  prune?:
    | false
    | { maxAge?: number | undefined; interval?: number | undefined; limit?: number | undefined }
    | undefined;
  /**
   * Keep completed jobs in the history (`job_history`, read by `getJob`, `listJobs`, the dashboard)
   * until `prune` removes them. Default true. `false` deletes each completed job in its ack, unless
   * a workflow or batch tracks it or it recorded a value; discarded and cancelled jobs are kept.
   */
  history?: boolean | undefined;
  /** Periodic jobs; each entry's `args` are typed from its worker. Entries changed at run time: `koban.cron`. */
  cron?: CronEntries<CronWorkers> | undefined;
  /**
   * Milliseconds between reads of the cron entries stored in the database (`koban.cron`): a net
   * for a lost change signal, which makes every node read them at once. Default 10000.
   */
  cronSyncInterval?: number | undefined;
  /**
   * For tests. `manual`: the node runs no queues and no plugins, so inserted jobs stay for
   * `assertEnqueued` and run only through `drainJobs`, `runWorkflow` or `runBatch`. `inline`: as
   * manual, but every insert (outside a transaction) runs the jobs at once, in the caller's
   * process, with whatever they cause, before it returns.
   */
  testing?: 'manual' | 'inline' | undefined;
  /** More plugins to run beside Koban's own; see KobanPlugin. */
  plugins?: readonly KobanPlugin[] | undefined;
  /**
   * Runs before every job this instance inserts, whatever its worker, before the worker's own
   * static `beforeNew`: returns nothing, or the job with changed `args` or `options`; throws to
   * refuse it (and the whole insert). It gets `{ worker, args, options }`.
   */
  beforeNew?: BeforeNewHook | undefined;
  /** Milliseconds between sweeps of held workflow steps whose release was lost (leader only). Default 1000. */
  workflowSweepInterval?: number | undefined;
  /** Connections Koban opens for a URL. Default 10. */
  poolSize?: number | undefined;
  /** Milliseconds a new connection may take to answer before it fails (and `Koban.start` with it). Default 10000. */
  connectTimeout?: number | undefined;
  /**
   * The longest wait, in milliseconds, between attempts to reconnect after the database went away:
   * roughly how long after the database returns the node resumes work. Default 500.
   */
  reconnectDelay?: number | undefined;
  /**
   * Milliseconds a claim, a write of outcomes or a heartbeat may take before the node abandons it
   * (cancelled in the server; a transaction is ended there by SET LOCAL timeouts) and tries again;
   * jobs a claim took anyway are given back after twice as long. Default 15000.
   */
  claimTimeout?: number | undefined;
  /**
   * Milliseconds any other statement Koban sends (staging, rescue, pruning, the leader's plugins,
   * inserts outside your transaction) may go unanswered before it is cancelled in the server and
   * fails; the task that sent it tries again on its next run. Default 60000.
   */
  statementDeadline?: number | undefined;
  /**
   * The largest args an insert takes, in bytes of JSON: larger ones are refused at once with a
   * KobanValidationError. Default 8 MiB (8388608).
   */
  maxArgsBytes?: number | undefined;
  /**
   * `'transaction'` when `database` goes through a connection pooler in transaction mode
   * (PgBouncer `pool_mode = transaction`, Supavisor or Neon's pooled URL): Koban then sends no
   * named prepared statements and listens only on `listenUrl`, polling without it.
   */
  pooler?: 'transaction' | undefined;
  /** A direct (unpooled) postgres:// URL for LISTEN alone: one connection. Without it behind a pooler, nodes poll. */
  listenUrl?: string | undefined;
  /** Where the node logs: `console` by default, or a pino or any `{ debug?, info, warn, error }` logger. */
  logger?: KobanLogger | undefined;
  /** The least severe level the node logs: `debug`, `info` (default), `warn`, `error` or `silent`. */
  logLevel?: LogLevel | undefined;
  /**
   * The metrics history: each node adds up its attempts per minute, queue and worker and writes
   * them to `job_metrics` every `interval` ms (default 60000) and when it stops; the leader deletes
   * rows older than `maxAge` seconds (default 7 days). `false` keeps no history. Read it with
   * `koban.metricsHistory()`.
   */
  metrics?: false | { interval?: number | undefined; maxAge?: number | undefined } | undefined;
  /**
   * OpenTelemetry spans and metrics by the messaging conventions (needs the optional peer
   * `@opentelemetry/api`, and an SDK to export them): `true`, or options. Default off: nothing
   * is loaded and no job pays for it.
   */
  opentelemetry?: boolean | OpenTelemetryOptions | undefined;
  /** Milliseconds between writes of one job's `job.progress(value)`; the last value is always written. Default 1000. */
  progressInterval?: number | undefined;
}

export interface ResolvedConfig {
  readonly schema: string;
  readonly queues: ReadonlyMap<string, ResolvedQueue>;
  readonly node: string;
  readonly migrate: boolean;
  readonly pollInterval: number;
  readonly stageInterval: number;
  readonly heartbeatInterval: number;
  readonly rescueAfter: number;
  readonly blockTolerance: number;
  readonly shutdownGrace: number;
  readonly connectTimeout: number;
  readonly reconnectDelay: number;
  readonly prune: false | { maxAge: number; interval: number; limit: number };
  readonly history: boolean;
  readonly cron: readonly CronEntry[];
  readonly cronSyncInterval: number;
  readonly plugins: readonly KobanPlugin[];
  readonly beforeNew: BeforeNewHook | undefined;
  readonly workflowSweepInterval: number;
  readonly testing: 'manual' | 'inline' | undefined;
  readonly maxArgsBytes: number;
  readonly pooler: 'transaction' | undefined;
  readonly listenUrl: string | undefined;
  readonly claimTimeout: number;
  readonly statementDeadline: number;
  /** The configured logger with `logLevel` applied. */
  readonly logger: Required<KobanLogger>;
  readonly progressInterval: number;
  readonly metrics: false | { interval: number; maxAge: number };
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,40}$/;

export function resolveConfig(config: KobanConfig, defaultNode: string): ResolvedConfig {
  const schema = config.schema ?? 'koban';
  if (!schemaPattern.test(schema)) {
    throw new KobanConfigError(
      `schema: expected a lower-case identifier of letters, digits and '_' (at most 41 characters), got ${JSON.stringify(schema)}`,
    );
  }
  const queues = new Map<string, ResolvedQueue>();
  for (const [name, value] of Object.entries(config.queues ?? {})) {
    checkQueueName(name, 'Koban.start({ queues })');
    queues.set(name, resolveQueue(value, `queues.${name}`, 'config'));
  }
  const prune =
    config.prune === false
      ? false
      : {
          maxAge: positive(config.prune?.maxAge ?? 7 * 24 * 3600, 'prune.maxAge'),
          interval: positive(config.prune?.interval ?? 30_000, 'prune.interval'),
          limit: positive(config.prune?.limit ?? 10_000, 'prune.limit'),
        };
  const heartbeatInterval = positive(config.heartbeatInterval ?? 5000, 'heartbeatInterval');
  const blockTolerance = nonNegative(config.blockTolerance ?? defaultBlockTolerance, 'blockTolerance');
  return {
    schema,
    queues,
    node: config.node ?? defaultNode,
    migrate: config.migrate ?? true,
    pollInterval: positive(config.pollInterval ?? 1000, 'pollInterval'),
    stageInterval: positive(config.stageInterval ?? 1000, 'stageInterval'),
    heartbeatInterval,
    rescueAfter:
      config.rescueAfter === undefined
        ? Math.max(defaultRescueAfter, minimumRescueAfter(heartbeatInterval, blockTolerance))
        : checkRescueAfter(positive(config.rescueAfter, 'rescueAfter'), heartbeatInterval, blockTolerance),
    blockTolerance,
    shutdownGrace: nonNegative(config.shutdownGrace ?? 15_000, 'shutdownGrace'),
    connectTimeout: positive(config.connectTimeout ?? defaultConnectTimeout, 'connectTimeout'),
    reconnectDelay: positive(config.reconnectDelay ?? defaultReconnectDelay, 'reconnectDelay'),
    prune,
    history: booleanOption(config.history ?? true, 'history'),
    cron: config.cron ?? [],
    cronSyncInterval: positive(config.cronSyncInterval ?? 10_000, 'cronSyncInterval'),
    plugins: config.plugins ?? [],
    beforeNew: checkBeforeNew(config.beforeNew),
    testing: testingMode(config.testing),
    workflowSweepInterval: positive(config.workflowSweepInterval ?? 1000, 'workflowSweepInterval'),
    claimTimeout: positive(config.claimTimeout ?? 15_000, 'claimTimeout'),
    statementDeadline: positive(config.statementDeadline ?? defaultStatementDeadline, 'statementDeadline'),
    maxArgsBytes: positiveInteger(config.maxArgsBytes ?? defaultMaxArgsBytes, 'maxArgsBytes'),
    pooler: poolerMode(config.pooler, config.database),
    listenUrl: checkListenUrl(config.listenUrl),
    logger: levelledLogger(
      checkLogger(config.logger ?? consoleLogger),
      checkLogLevel(config.logLevel ?? 'info'),
    ),
    progressInterval: nonNegative(config.progressInterval ?? 1000, 'progressInterval'),
    metrics:
      config.metrics === false
        ? false
        : {
            interval: positive(config.metrics?.interval ?? 60_000, 'metrics.interval'),
            maxAge: positive(config.metrics?.maxAge ?? 7 * 24 * 3600, 'metrics.maxAge'),
          },
  };
}

function poolerMode(pooler: unknown, database: unknown): 'transaction' | undefined {
  if (pooler === undefined) return undefined;
  if (pooler !== 'transaction') {
    throw new KobanConfigError(
      `pooler: expected 'transaction' (a pooler in transaction mode) or undefined, got ${JSON.stringify(pooler)}; ` +
        'a pooler in session mode needs no setting',
    );
  }
  if (
    database === undefined ||
    (typeof database === 'object' && database !== null && !('$client' in database))
  ) {
    throw new KobanConfigError(
      "pooler: 'transaction' is for a PostgreSQL server behind a pooler: give database a postgres:// URL or a postgres.js Drizzle database",
    );
  }
  return pooler;
}

function checkListenUrl(url: unknown): string | undefined {
  if (url === undefined) return undefined;
  if (typeof url !== 'string' || !isPostgresUrl(url)) {
    throw new KobanConfigError(
      `listenUrl: expected a direct postgres:// URL (not through the pooler), got ${typeof url === 'string' ? 'a string that is not one' : typeof url}`,
    );
  }
  return url;
}

/** A queue's options checked: a local limit (a number alone is one), a paused flag, cluster-wide limits. */
export function resolveQueue(
  value: number | QueueConfig,
  where: string,
  fault: 'config' | 'argument',
): ResolvedQueue {
  const queue: QueueConfig = typeof value === 'number' ? { limit: value } : (value ?? {});
  if (typeof queue !== 'object') {
    throw faultError(
      fault,
      where,
      `expected a limit or { limit, global, partition, rateLimit }, got ${JSON.stringify(value)}`,
    );
  }
  const flow = checkFlow(queue, where, fault);
  const limit = queue.limit ?? flow.global;
  if (!Number.isInteger(limit) || (limit as number) < 1) {
    throw faultError(
      fault,
      where,
      `limit must be a positive integer (or give global: { limit }), got ${JSON.stringify(typeof value === 'number' ? value : queue.limit)}`,
    );
  }
  if (queue.paused !== undefined && typeof queue.paused !== 'boolean') {
    throw faultError(fault, `${where}.paused`, `expected true or false, got ${JSON.stringify(queue.paused)}`);
  }
  return { limit: limit as number, paused: queue.paused ?? false, flow };
}

const defaultRescueAfter = 60_000;
const defaultBlockTolerance = 5000;

/** Heartbeats a live node may miss (a slow beat, a slow query) before its jobs are rescued. */
const rescueHeartbeats = 3;

/** The shortest `rescueAfter` under which a live node, blocked for `blockTolerance`, keeps its jobs. */
export function minimumRescueAfter(heartbeatInterval: number, blockTolerance: number): number {
  return rescueHeartbeats * heartbeatInterval + blockTolerance;
}

/**
 * A live node beats every `heartbeatInterval`; the leader takes a node whose last beat is older than
 * `rescueAfter` for dead and runs its executing jobs again. A node whose event loop is blocked
 * sends no beat: `rescueAfter` must cover a few intervals and the longest block allowed, or the
 * jobs of live nodes would run twice.
 */
function checkRescueAfter(rescueAfter: number, heartbeatInterval: number, blockTolerance: number): number {
  const minimum = minimumRescueAfter(heartbeatInterval, blockTolerance);
  if (rescueAfter < minimum) {
    throw new KobanConfigError(
      `rescueAfter: ${rescueAfter} ms is too short for a heartbeatInterval of ${heartbeatInterval} ms and a ` +
        `blockTolerance of ${blockTolerance} ms. rescueAfter must be at least ${rescueHeartbeats} × heartbeatInterval ` +
        `+ blockTolerance (${minimum} ms): a node whose last heartbeat is older than rescueAfter counts as dead and ` +
        'its running jobs run again, and a node sends no heartbeat while synchronous work blocks its event loop ' +
        `(up to blockTolerance), so a shorter value would run the jobs of live nodes twice. Raise rescueAfter to ` +
        `${minimum} or more, or lower heartbeatInterval or blockTolerance.`,
    );
  }
  return rescueAfter;
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new KobanConfigError(`${name}: expected a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new KobanConfigError(`${name}: expected a positive whole number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new KobanConfigError(`${name}: expected a number of at least 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function booleanOption(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw new KobanConfigError(`${name}: expected true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

function testingMode(value: unknown): 'manual' | 'inline' | undefined {
  if (value === undefined || value === 'manual' || value === 'inline') return value;
  throw new KobanConfigError(`testing: expected 'manual' or 'inline', got ${JSON.stringify(value)}`);
}

function checkLogger(logger: KobanLogger): KobanLogger {
  const missing = (['info', 'warn', 'error'] as const).filter(
    (level) => typeof logger?.[level] !== 'function',
  );
  if (typeof logger?.debug !== 'function' && logger?.debug !== undefined) missing.push('debug' as never);
  if (missing.length > 0) {
    throw new KobanConfigError(
      `logger: expected an object with info, warn and error methods (and optionally debug), as pino and console have; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not a function`,
    );
  }
  return logger;
}

function checkLogLevel(level: unknown): LogLevel {
  if (logLevels.includes(level as LogLevel)) return level as LogLevel;
  throw new KobanConfigError(
    `logLevel: expected one of ${logLevels.join(', ')}, got ${JSON.stringify(level)}`,
  );
}
