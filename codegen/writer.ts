/** Builds source text line by line with two-space indentation. */
export class CodeWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ''): this {
    this.lines.push(text === '' ? '' : '  '.repeat(this.depth) + text);
    return this;
  }

  /** Writes each line of a multi-line text at the current indentation. */
  text(text: string): this {
    for (const line of text.split('\n')) this.line(line);
    return this;
  }

  /** `open`, the body one level in, then `close`. */
  block(open: string, body: () => void, close = '}'): this {
    this.line(open);
    this.depth += 1;
    body();
    this.depth -= 1;
    return this.line(close);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** A single-quoted string literal. */
export function quote(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${escaped}'`;
}

/** Text that can sit inside a template literal unchanged. */
export function templateText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
}

const identifierPattern = /^[A-Za-z_$][\w$]*$/;

export function isIdentifier(text: string): boolean {
  return identifierPattern.test(text);
}

/** How a key is written in an issue path: `.name`, or `["odd key"]`. */
export function pathSegment(key: string): string {
  return isIdentifier(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** An object key as written in a literal: bare when it can be. */
export function propertyKey(key: string): string {
  return isIdentifier(key) ? key : quote(key);
}

/** `Some name-here` → `SomeNameHere`, for building readable function names. */
export function pascalCase(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
  return /^[0-9]/.test(joined) ? `_${joined}` : joined || 'Value';
}

export function camelCase(text: string): string {
  const pascal = pascalCase(text);
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}
