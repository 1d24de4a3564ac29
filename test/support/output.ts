/**
 * The last line of a child's stdout that is a JSON object: its report. A node logs to stdout
 * too (through the console logger), before and after the report.
 */
export function lastJsonLine(stdout: string): string {
  const line = stdout
    .trim()
    .split('\n')
    .findLast((text) => text.startsWith('{'));
  if (line === undefined) throw new Error(`no JSON report in the output:\n${stdout}`);
  return line;
}
