// CPU time of a measurement: this process's own (process.cpuUsage), and the database server's,
// read from /proc for every PostgreSQL backend connected to the bench database (pg_stat_activity
// gives their pids: client backends, and autovacuum or parallel workers when they serve it), plus
// any other server process the system under test uses (redis-server for BullMQ on Redis). Not
// counted: the connection that measures, and the server-wide walwriter, checkpointer and
// background writer, which serve every database of the server at once and cannot be attributed.
import { readdirSync, readFileSync } from 'node:fs';
import type postgres from 'postgres';

/** Linux reports utime and stime in USER_HZ ticks, which is 100 per second on every platform. */
const microsPerTick = 10_000;

/**
 * On-CPU time of a process in µs, all its threads: the nanosecond counters of
 * /proc/<pid>/task/<tid>/schedstat, or utime + stime of /proc/<pid>/stat (10 ms ticks) without them.
 */
export function processCpuMicros(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1000;
  } catch {
    // no schedstat (or the process is gone): try stat
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ", fields start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * microsPerTick;
  } catch {
    return undefined;
  }
}

/** CPU used during a measurement, in µs. */
export interface CpuUse {
  /** This process: user + system. */
  readonly nodeUs: number;
  /** The database server's processes serving the measurement. */
  readonly dbUs: number;
}

/**
 * Measures from `start` to `stop`. Backends are sampled every `intervalMs`, so that one that
 * disconnects before the end still counts up to its last sample; one that connects after the
 * start counts from zero (its connection set-up is part of the measured work).
 */
export class CpuMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private sampling: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly sql: postgres.Sql,
    private readonly serverPids: readonly number[],
    private readonly node: NodeJS.CpuUsage,
  ) {}

  /** `sql` is the measuring connection (one connection: its own backend is left out). */
  static async start(
    sql: postgres.Sql,
    serverPids: readonly number[] = [],
    intervalMs = 200,
  ): Promise<CpuMeter> {
    const meter = new CpuMeter(sql, serverPids, process.cpuUsage());
    await meter.sample(meter.first);
    for (const [pid, micros] of meter.first) meter.last.set(pid, micros);
    meter.timer = setInterval(() => {
      meter.sampling = meter.sampling.then(() => meter.sample(meter.last)).catch(() => {});
    }, intervalMs);
    meter.timer.unref();
    return meter;
  }

  async stop(): Promise<CpuUse> {
    clearInterval(this.timer);
    const node = process.cpuUsage(this.node);
    await this.sampling;
    await this.sample(this.last);
    let dbUs = 0;
    for (const [pid, micros] of this.last) dbUs += micros - (this.first.get(pid) ?? 0);
    return { nodeUs: node.user + node.system, dbUs };
  }

  private async sample(into: Map<number, number>): Promise<void> {
    const rows = await this.sql<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
    for (const pid of [...rows.map((row) => row.pid), ...this.serverPids]) {
      const micros = processCpuMicros(pid);
      if (micros !== undefined) into.set(pid, micros);
    }
  }
}
