// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what must be found
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text from user code (error messages, stacks, cancel reasons) as PostgreSQL can store it in
 * jsonb: U+0000 and lone surrogates are written as `\u0000`-style escapes. Without this, one job
 * whose error message held such a character made the database reject the write of its outcome.
 */
export function storableText(text: string): string {
  return text.replace(unstorable, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
