import { KobanError } from '../sdk/errors.js';

/** One thing `npx gen` can't generate from, with where it is and what to write instead. */
export interface CodegenProblem {
  /** Path relative to the project root, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly message: string;
  readonly fix: string;
}

export function formatProblem(problem: CodegenProblem): string {
  return `${problem.file}:${problem.line}: ${problem.message}. ${problem.fix}`;
}

/** Every problem found in one run, so the user can fix them all before running `npx gen` again. */
export class KobanCodegenError extends KobanError {
  readonly problems: readonly CodegenProblem[];

  constructor(problems: readonly CodegenProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('codegen', `npx gen found ${count}:\n${problems.map(formatProblem).join('\n')}`);
    this.problems = problems;
  }
}

/** The project itself can't be read: no tsconfig.json, a bad `koban` section, an unknown flag. */
export class KobanCodegenSetupError extends KobanError {
  constructor(message: string) {
    super('codegen_setup', message);
  }
}

/** Collects problems across a whole scan instead of stopping at the first. */
export class ProblemList {
  private readonly items: CodegenProblem[] = [];

  add(problem: CodegenProblem): void {
    this.items.push(problem);
  }

  get size(): number {
    return this.items.length;
  }

  /** Throws every collected problem, in file and line order. */
  throwIfAny(): void {
    if (this.items.length === 0) return;
    const sorted = [...this.items].sort(
      (a, b) => compareText(a.file, b.file) || a.line - b.line || compareText(a.message, b.message),
    );
    throw new KobanCodegenError(sorted);
  }
}

/** Locale-free ordering, so the output is the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
