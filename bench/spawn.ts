// The orchestrator's side of one measurement: a fresh database, a child process running one
// compiled bench script under plain node, its report, the database dropped.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Report } from './report.js';

export interface Measurement {
  /** The compiled script, relative to bench/: `peers/koban`, `features/flows`. */
  readonly script: string;
  readonly scenario: string;
  readonly n: number;
  readonly option?: string;
  /** The Koban build the child loads (KOBAN_DIST). */
  readonly dist: string;
}

export class ChildRunner {
  private readonly admin: postgres.Sql;
  private count = 0;
  private current: { db: string; child?: ChildProcess } | undefined;

  constructor(
    private readonly baseUrl: string,
    /** The folder holding the compiled bench/ (see buildChildren). */
    private readonly childrenDir: string,
    private readonly env: Record<string, string>,
    private readonly timeoutMs = 15 * 60_000,
  ) {
    this.admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  }

  /** Runs one measurement; undefined when the child failed (it said why on stderr). */
  async measure(m: Measurement): Promise<Report | undefined> {
    const db = `koban_bench_${process.pid}_${++this.count}`;
    await this.admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await this.admin.unsafe(`CREATE DATABASE "${db}"`);
    const url = new URL(this.baseUrl);
    url.pathname = `/${db}`;
    this.current = { db };
    try {
      const args = [join(this.childrenDir, 'bench', `${m.script}.js`), m.scenario, url.href, String(m.n)];
      const child = spawn(process.execPath, m.option === undefined ? args : [...args, m.option], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...this.env, KOBAN_DIST: m.dist },
      });
      this.current.child = child;
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      const last = out.trim().split('\n').pop();
      if (code !== 0 || !last?.startsWith('{')) return undefined;
      return JSON.parse(last) as Report;
    } finally {
      this.current = undefined;
      await this.admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    }
  }

  async serverVersion(): Promise<string> {
    const [row] = await this.admin`SELECT current_setting('server_version') AS version`;
    return String(row!.version);
  }

  /** Stops the running child and drops its database (on Ctrl-C). */
  async abort(): Promise<void> {
    this.current?.child?.kill('SIGKILL');
    if (this.current)
      await this.admin.unsafe(`DROP DATABASE IF EXISTS "${this.current.db}" WITH (FORCE)`).catch(() => {});
    await this.close();
  }

  close(): Promise<void> {
    return this.admin.end();
  }
}
