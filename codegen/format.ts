/**
 * The last stage before writing: one newline style, no trailing spaces, at most one blank line
 * in a row, one final newline. The emitters already indent; this makes the result byte-stable.
 */
export function formatSource(text: string): string {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd());
  const kept = lines.filter((line, index) => line !== '' || (index > 0 && lines[index - 1] !== ''));
  return `${kept.join('\n').trim()}\n`;
}
