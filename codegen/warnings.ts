import { type CompilerOptions, ts } from 'ts-morph';

/**
 * Things that do not stop gen but would break the project, each with its fix. With `target`
 * ESNext (what `tsc --init` writes), tsc leaves TC39 decorators in the JavaScript as written,
 * and no Node release runs them yet.
 */
export function projectWarnings(options: CompilerOptions, tsconfig: string, workers: number): string[] {
  const warnings: string[] = [];
  if (workers > 0 && !options.experimentalDecorators && (options.target ?? 0) >= ts.ScriptTarget.ESNext) {
    warnings.push(
      `${tsconfig}: "target": "esnext" leaves decorators in the compiled JavaScript as written, and Node ` +
        'cannot run them yet (SyntaxError: Invalid or unexpected token). Set "target" to "es2022" ' +
        '(any of es2022 to es2024) in compilerOptions.',
    );
  }
  return warnings;
}
