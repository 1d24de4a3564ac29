import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

// A throw-away PostgreSQL cluster that a chaos test owns: created with initdb in a temporary
// directory, served on a free port of 127.0.0.1, stopped, crashed and restarted at will, and
// deleted afterwards. Never the shared server on 5432.

const run = promisify(execFile);

/** Clusters still up when the test process exits (a failed test, a forgotten destroy) are stopped. */
const live = new Set<Cluster>();
process.once('exit', () => {
  for (const cluster of live) cluster.destroySync();
});

/** The newest installed server's binaries; KOBAN_PG_BIN overrides. */
function binDirectory(): string {
  if (process.env.KOBAN_PG_BIN) return process.env.KOBAN_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}; set KOBAN_PG_BIN`);
  return join(root, versions[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user. */
function asServerUser(binary: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [binary, args];
  return ['runuser', ['-u', 'postgres', '--', binary, ...args]];
}

async function pg(tool: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [command, argv] = asServerUser(join(binDirectory(), tool), args);
  const { stdout } = await run(command, argv, { timeout: timeoutMs });
  return stdout;
}

/** Ports handed out in this process: a stopped cluster's port must not go to another one. */
const usedPorts = new Set<number>();

/**
 * A free port below the ephemeral range, so that no client socket takes it while its server is
 * down, and never one this process handed out before: a node reconnecting to a stopped cluster
 * must not reach another test's server.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (usedPorts.has(port) || !(await canListen(port))) continue;
    usedPorts.add(port);
    return port;
  }
  throw new Error('no free port between 20000 and 30000');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export class Cluster {
  private constructor(
    readonly directory: string,
    readonly port: number,
  ) {}

  /** initdb (trust auth, no fsync) and start. */
  static async create(): Promise<Cluster> {
    const directory = mkdtempSync(join(tmpdir(), 'koban-chaos-'));
    // The server user must own its data directory; the test's user must be able to delete it.
    chmodSync(directory, 0o777);
    const cluster = new Cluster(directory, await freePort());
    live.add(cluster);
    await pg('initdb', [
      '-D',
      cluster.dataDirectory,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await cluster.start();
    return cluster;
  }

  get dataDirectory(): string {
    return join(this.directory, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.directory}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
      '-c shared_buffers=32MB',
    ].join(' ');
    await pg('pg_ctl', [
      '-D',
      this.dataDirectory,
      '-l',
      join(this.directory, 'server.log'),
      '-o',
      options,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /** `fast` stops cleanly; `immediate` is a crash: the next start runs recovery. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pg('pg_ctl', ['-D', this.dataDirectory, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** SIGKILLs the postmaster and every backend, as an OOM killer or a lost VM would. */
  async kill(): Promise<void> {
    const processes = await this.processes();
    this.signal(processes, 'SIGKILL');
    // The next start finds the stale pid file and shared memory and recovers.
    const deadline = Date.now() + 10_000;
    while (processes.some(alive) && Date.now() < deadline) await sleep(20);
  }

  /**
   * SIGSTOPs the server and its backends: open connections and new ones get no answer, as behind
   * a network partition. `resume()` lets it go on.
   */
  async freeze(): Promise<void> {
    this.frozen = await this.processes();
    this.signal(this.frozen, 'SIGSTOP');
  }

  resume(): void {
    this.signal(this.frozen, 'SIGCONT');
    this.frozen = [];
  }

  private frozen: number[] = [];

  /** The postmaster and its children. */
  private async processes(): Promise<number[]> {
    const pid = Number(readFileSync(join(this.dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = await run('pgrep', ['-P', String(pid)]).then(
      ({ stdout }) => stdout.split('\n').filter(Boolean).map(Number),
      () => [] as number[],
    );
    return [pid, ...children];
  }

  private signal(processes: readonly number[], signal: NodeJS.Signals): void {
    for (const target of processes) {
      try {
        process.kill(target, signal);
      } catch {
        // already gone
      }
    }
  }

  async createDatabase(name: string): Promise<string> {
    await this.admin((sql) => sql.unsafe(`CREATE DATABASE ${name}`));
    return this.url(name);
  }

  /** Runs work on a short-lived superuser connection to the `postgres` database. */
  async admin<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    const sql = postgres(this.url(), { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 10 });
    try {
      return await work(sql);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  /** Stops the server at once and deletes its files. Safe to call twice. */
  async destroy(): Promise<void> {
    live.delete(this);
    this.resume();
    if (!existsSync(this.directory)) return;
    if (existsSync(join(this.dataDirectory, 'postmaster.pid'))) {
      await this.stop('immediate').catch(() => this.kill().catch(() => undefined));
    }
    rmSync(this.directory, { recursive: true, force: true });
  }

  /** destroy() for a process that is exiting: no promises. */
  destroySync(): void {
    live.delete(this);
    this.resume();
    if (!existsSync(this.directory)) return;
    try {
      const [command, argv] = asServerUser(join(binDirectory(), 'pg_ctl'), [
        '-D',
        this.dataDirectory,
        '-m',
        'immediate',
        'stop',
      ]);
      execFileSync(command, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // not running
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
