import type { JobRecord } from 'koban';

// Output for a person following the demo: timestamped lines, sections, a table of job states,
// and the checks that decide the exit code.

export const log = (message: string) => console.log(`${new Date().toISOString().slice(11, 23)}  ${message}`);

export function section(title: string): void {
  console.log(`\n── ${title}`);
}

/** Polls `check` every 100 ms until it returns something truthy; fails after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`the demo waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Jobs per worker and state, as a text table. */
export function stateTable(jobs: readonly JobRecord<unknown>[]): string {
  const states = [...new Set(jobs.map((job) => job.state))].sort();
  const counts = new Map<string, Map<string, number>>();
  for (const job of jobs) {
    const name = job.batchCallback ? `${job.worker} (${job.batchCallback} callback)` : job.worker;
    const byState = counts.get(name) ?? new Map<string, number>();
    byState.set(job.state, (byState.get(job.state) ?? 0) + 1);
    counts.set(name, byState);
  }
  const rows = [
    ['worker', ...states],
    ...[...counts]
      .sort()
      .map(([worker, byState]) => [worker, ...states.map((state) => String(byState.get(state) ?? ''))]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    )
    .join('\n');
}

/** What the demo promises: each is checked, and the exit code says whether all held. */
export class Checks {
  private readonly results: { what: string; ok: boolean }[] = [];

  that(what: string, ok: boolean): void {
    this.results.push({ what, ok });
  }

  /** Prints each check; returns the exit code. */
  report(): number {
    console.log('');
    for (const { what, ok } of this.results) console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}`);
    const failed = this.results.filter((result) => !result.ok).length;
    console.log(failed === 0 ? '\nall checks passed' : `\n${failed} check(s) failed`);
    return failed === 0 ? 0 : 1;
  }
}
