import type { Writable } from 'node:stream';

/** Where a command writes: people get tables, scripts get `--json`; progress goes to stderr. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Exit codes scripts can rely on. */
export const exitCodes = {
  ok: 0,
  /** The database failed, or an action could not be done. */
  failed: 1,
  /** A bad command line or argument: nothing was changed. */
  usage: 2,
  /** The job, workflow or batch asked for does not exist. */
  notFound: 3,
  /** `doctor` found a problem. */
  unhealthy: 4,
} as const;

/** Columns padded to their widest cell; the header in capitals. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) =>
    row.map((cell) => (cell === null || cell === undefined ? '—' : String(cell))),
  );
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((row) => row[index]!.length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return `${[line(headers.map((header) => header.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** 1.2 s, 3 min, 2 h, 4 d: a duration as people read it. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

export function time(date: Date | null | undefined): string {
  return date
    ? date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '—';
}

/** Progress of a long action on stderr: one line rewritten on a terminal, a line per step otherwise. */
export function progressLine(io: CliIo, label: string, done: number, total: number): void {
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
  const text = `${label}: ${done}/${total} (${percent}%)`;
  const tty = (io.stderr as { isTTY?: boolean }).isTTY;
  io.stderr.write(tty ? `\r${text}${done >= total ? '\n' : ''}` : `${text}\n`);
}
