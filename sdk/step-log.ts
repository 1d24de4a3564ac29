import type { WorkflowStep } from './workflow.js';

/**
 * The steps of builders made one from another. A builder sees the first `length` entries; while
 * a workflow is built in a line (each `add` on the newest builder), they all share one log, so
 * an `add` costs the same for the 10,000th step as for the first. Adding to an older builder
 * copies the entries it sees first, which keeps every builder immutable.
 */
export class StepLog {
  private readonly entries: WorkflowStep[] = [];
  private readonly positions = new Map<string, number>();

  has(name: string, length: number): boolean {
    return (this.positions.get(name) ?? length) < length;
  }

  slice(length: number): readonly WorkflowStep[] {
    return Object.freeze(this.entries.slice(0, length));
  }

  names(length: number): string[] {
    return this.entries.slice(0, length).map((step) => step.name);
  }

  /** A log holding the first `length` entries and then `added`: this one, when nobody else extended it. */
  extend(length: number, added: readonly WorkflowStep[]): StepLog {
    let log: StepLog = this;
    if (this.entries.length !== length) {
      log = new StepLog();
      for (const step of this.entries.slice(0, length)) log.push(step);
    }
    for (const step of added) log.push(step);
    return log;
  }

  private push(step: WorkflowStep): void {
    this.positions.set(step.name, this.entries.length);
    this.entries.push(step);
  }
}
