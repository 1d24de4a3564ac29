// How processing scales, one measurement per process: jobs run by several Koban nodes (each a
// process of its own, loaded before the clock starts), and jobs on a table that already holds
// many completed rows. Node µs/job is the CPU of the nodes, summed.
// Usage: node <build>/bench/features/scaling.js processes <dbUrl> <jobs> <nodes>
//        node <build>/bench/features/scaling.js history <dbUrl> <jobs> <completed rows>
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { quietLogger } from '../koban-dist.js';
import { childMain, log } from '../report.js';
import { koban, Noop } from './noop-worker.js';
import { queueLimit, timeWindow, withSql } from './window.js';

const here = dirname(fileURLToPath(import.meta.url));
const fmt = (n: number) => n.toLocaleString('en-US');

/** Inserts the jobs to run, after `first` (which runs on the migrated schema). */
async function insertJobs(url: string, count: number, first: () => Promise<void>): Promise<void> {
  const inserter = await koban.Koban.start({
    database: url,
    queues: {},
    workers: [Noop],
    logger: quietLogger,
  });
  await first();
  for (let from = 0; from < count; from += 20_000) {
    const size = Math.min(20_000, count - from);
    await inserter.insertAll(Array.from({ length: size }, (_, n) => koban.newJob(Noop, { n: from + n })));
  }
  await inserter.stop();
}

/** Whether the build under test keeps finished jobs in `koban.job_history` (Koban since its v004). */
async function hasHistoryTable(sql: postgres.Sql): Promise<boolean> {
  const [row] = await sql`SELECT to_regclass('koban.job_history') IS NOT NULL AS found`;
  return Boolean(row?.found);
}

/**
 * Completed rows as a node leaves them, inserted in SQL: the history a busy table carries, where
 * the build keeps it (its history table, or the jobs table before it had one).
 */
async function fillHistory(sql: postgres.Sql, rows: number): Promise<void> {
  const history = await hasHistoryTable(sql);
  for (let first = 1; first <= rows; first += 250_000) {
    const last = Math.min(rows, first + 249_999);
    if (history) {
      await sql`
        INSERT INTO koban.job_history (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts,
          priority, inserted_at, scheduled_at, attempted_at, completed_at, attempted_by, finished_at)
        SELECT nextval('koban.jobs_id_seq'), 'completed', 'bench', 'Noop', jsonb_build_object('n', g), '{}', '{}', '{}',
          1, 20, 0, now(), now(), now(), now() - g * interval '1 ms', '{bench}', now() - g * interval '1 ms'
        FROM generate_series(${first}::int, ${last}::int) g`;
    } else {
      await sql`
        INSERT INTO koban.jobs (state, queue, worker, args, attempt, attempted_at, completed_at, attempted_by)
        SELECT 'completed', 'bench', 'Noop', jsonb_build_object('n', g), 1, now(), now() - g * interval '1 ms', '{bench}'
        FROM generate_series(${first}::int, ${last}::int) g`;
    }
    log(`history: ${fmt(last)}/${fmt(rows)} completed rows`);
  }
}

/** A node process, and its stdout lines as they come. */
class NodeProcess {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: (() => void) | undefined;
  private exited = false;
  readonly exit: Promise<unknown>;

  constructor(url: string) {
    this.child = spawn(process.execPath, [join(here, 'scaling-node.js'), url, String(queueLimit)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const wake = () => this.waiting?.();
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      wake();
    });
    this.exit = once(this.child, 'exit').finally(() => {
      this.exited = true;
      wake();
    });
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The rest of the node's first line that starts with `word`. */
  async line(word: string): Promise<string> {
    for (;;) {
      const found = this.lines.find((line) => line.startsWith(word));
      if (found !== undefined) return found.slice(word.length).trim();
      if (this.exited) throw new Error(`a scaling node exited before it printed "${word}"`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }
}

/** Every node is running once the job table has neither available nor executing rows. */
async function drained(sql: postgres.Sql): Promise<void> {
  // Two EXISTS, each served by its partial index: one over both states scans the table.
  while (
    (
      await sql`SELECT EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'available')
        OR EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'executing') AS busy`
    )[0]!.busy
  ) {
    await sleep(10);
  }
}

childMain(({ scenario, url, n, option }) =>
  withSql(url, async (sql) => {
    const nodes = scenario === 'processes' ? Number(option ?? 1) : 1;
    const history = scenario === 'history' ? Number(option ?? 0) : 0;
    if (
      !['processes', 'history'].includes(scenario) ||
      !Number.isInteger(nodes) ||
      !Number.isInteger(history)
    )
      throw new Error(`usage: scaling.js <processes|history> <dbUrl> <jobs> <nodes|completed rows>`);
    // Finished jobs are older than the jobs to run, as in a real table: their ids come first.
    await insertJobs(url, n, async () => {
      if (history > 0) await fillHistory(sql, history);
    });
    // The same start for every variant: statistics, and no checkpoint due from the set-up's writes.
    await sql`VACUUM ANALYZE koban.jobs`;
    if (await hasHistoryTable(sql)) await sql`VACUUM ANALYZE koban.job_history`;
    await sql`CHECKPOINT`;
    const children = Array.from({ length: nodes }, () => new NodeProcess(url));
    await Promise.all(children.map((node) => node.line('ready')));
    const timed = await timeWindow(sql, n, async () => {
      for (const node of children) node.send('go');
      await drained(sql);
    });
    for (const node of children) node.send('stop');
    const cpu = await Promise.all(children.map((node) => node.line('cpu')));
    await Promise.all(children.map((node) => node.exit));
    const nodeUs = cpu.reduce((sum, micros) => sum + Number(micros), 0) / n;
    const table = (await hasHistoryTable(sql)) ? sql`koban.all_jobs` : sql`koban.jobs`;
    const [row] = await sql`SELECT count(*)::int AS completed FROM ${table} WHERE state = 'completed'`;
    if (Number(row?.completed) !== n + history)
      throw new Error(`expected ${n + history} completed jobs, found ${row?.completed}`);
    const settings =
      scenario === 'processes'
        ? `${nodes} node process(es), queue limit ${queueLimit} each`
        : `1 node, ${fmt(history)} completed rows in the table first, queue limit ${queueLimit}`;
    return { ...timed, nodeUs, jobs: n, settings };
  }),
);
