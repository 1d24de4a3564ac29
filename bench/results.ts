// The reports of a run, kept per row, case and repetition.
import type { Case, Row } from './plan.js';
import type { Metric, Report } from './report.js';

export class Results {
  private readonly reports = new Map<string, (Report | undefined)[]>();

  private static key(row: Row, item: Case): string {
    return `${row.name}/${item.key}`;
  }

  add(row: Row, item: Case, rep: number, report: Report | undefined): void {
    const key = Results.key(row, item);
    const list = this.reports.get(key) ?? [];
    list[rep] = report;
    this.reports.set(key, list);
  }

  /** One entry per repetition, undefined where the measurement failed. */
  perRep(row: Row, item: Case): readonly (Report | undefined)[] {
    return this.reports.get(Results.key(row, item)) ?? [];
  }

  /** A metric's values over the repetitions that measured it. */
  values(row: Row, item: Case, metric: Metric): number[] {
    return this.perRep(row, item)
      .map((report) => report?.[metric])
      .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  }

  settings(row: Row, item: Case): string | undefined {
    return this.perRep(row, item).find((report) => report)?.settings;
  }

  toJSON(): Record<string, (Report | null)[]> {
    return Object.fromEntries(
      [...this.reports].map(([key, list]) => [key, Array.from(list, (report) => report ?? null)]),
    );
  }
}
