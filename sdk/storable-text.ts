const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why PostgreSQL cannot keep a string as it is, or undefined when it can. Its text and jsonb take
 * no U+0000, and a lone surrogate (a string that is not well-formed UTF-16) is rejected by jsonb
 * and silently stored as U+FFFD in text.
 */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (U+0000), which PostgreSQL cannot store';
  if (loneSurrogate.test(value)) {
    return 'contains a lone surrogate (malformed UTF-16), which PostgreSQL cannot store unchanged';
  }
  return undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what must be found
const unstorableCharacters = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text from user code (error messages, stacks, cancel reasons) as PostgreSQL can store it: U+0000
 * and lone surrogates are written as `\u0000`-style escapes. Without this, one job whose error
 * message held such a character made the database reject the write of its outcome.
 */
export function storableText(text: string): string {
  return text.replace(
    unstorableCharacters,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
