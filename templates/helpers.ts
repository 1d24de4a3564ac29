/**
 * The small functions generated validators call, as source text. The emitter copies only the
 * ones a project uses (and what they depend on), so strict `noUnusedLocals` projects compile.
 */
export type HelperName =
  | 'types'
  | 'kindOf'
  | 'literalText'
  | 'isRecord'
  | 'expected'
  | 'keyPath'
  | 'checkString'
  | 'checkNumber'
  | 'checkBoolean'
  | 'checkNull'
  | 'checkAbsent'
  | 'checkLiteral'
  | 'checkDate'
  | 'checkBigint'
  | 'checkUnknownKeys'
  | 'firstMatch'
  | 'runCheck'
  | 'omit';

interface HelperSource {
  readonly uses: readonly HelperName[];
  readonly code: string;
}

export const helperSources: Record<HelperName, HelperSource> = {
  types: {
    uses: [],
    code: `type CodecMode = 'encode' | 'decode';
type Check = (input: unknown, path: string, issues: ValidationIssue[], mode: CodecMode) => unknown;`,
  },
  kindOf: {
    uses: [],
    code: `function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}`,
  },
  literalText: {
    uses: ['kindOf'],
    code: `function literalText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
  return kindOf(value);
}`,
  },
  isRecord: {
    uses: [],
    code: `function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}`,
  },
  expected: {
    uses: ['kindOf'],
    code: `function expected(issues: ValidationIssue[], path: string, description: string, value: unknown): void {
  issues.push({ path, message: \`expected \${description}, got \${kindOf(value)}\` });
}`,
  },
  keyPath: {
    uses: [],
    code: `function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\\w$]*$/.test(key) ? \`\${path}.\${key}\` : \`\${path}[\${JSON.stringify(key)}]\`;
}`,
  },
  checkString: {
    uses: ['expected'],
    code: `function checkString(input: unknown, path: string, issues: ValidationIssue[]): unknown {
  if (typeof input !== 'string') expected(issues, path, 'string', input);
  return input;
}`,
  },
  checkNumber: {
    uses: ['expected'],
    code: `function checkNumber(input: unknown, path: string, issues: ValidationIssue[]): unknown {
  if (typeof input !== 'number' || !Number.isFinite(input)) expected(issues, path, 'number', input);
  return input;
}`,
  },
  checkBoolean: {
    uses: ['expected'],
    code: `function checkBoolean(input: unknown, path: string, issues: ValidationIssue[]): unknown {
  if (typeof input !== 'boolean') expected(issues, path, 'boolean', input);
  return input;
}`,
  },
  checkNull: {
    uses: ['expected'],
    code: `function checkNull(input: unknown, path: string, issues: ValidationIssue[]): unknown {
  if (input !== null) expected(issues, path, 'null', input);
  return input;
}`,
  },
  checkAbsent: {
    uses: ['expected'],
    code: `// JSON has no undefined: a stored undefined comes back as null.
function checkAbsent(input: unknown, path: string, issues: ValidationIssue[]): unknown {
  if (input !== undefined && input !== null) expected(issues, path, 'undefined', input);
  return undefined;
}`,
  },
  checkLiteral: {
    uses: ['literalText'],
    code: `function checkLiteral(
  input: unknown,
  path: string,
  issues: ValidationIssue[],
  values: readonly unknown[],
  description: string,
): unknown {
  if (!values.includes(input)) issues.push({ path, message: \`expected \${description}, got \${literalText(input)}\` });
  return input;
}`,
  },
  checkDate: {
    uses: ['expected', 'types'],
    code: `// A Date is stored as its ISO string and turned back into a Date before process sees it.
function checkDate(input: unknown, path: string, issues: ValidationIssue[], mode: CodecMode): unknown {
  if (mode === 'encode') {
    if (input instanceof Date && !Number.isNaN(input.getTime())) return input.toISOString();
    if (input instanceof Date) issues.push({ path, message: 'expected a valid Date, got an invalid Date' });
    else expected(issues, path, 'Date', input);
    return input;
  }
  const date = typeof input === 'string' ? new Date(input) : undefined;
  if (date && !Number.isNaN(date.getTime())) return date;
  if (typeof input === 'string') issues.push({ path, message: \`expected an ISO date string, got \${JSON.stringify(input)}\` });
  else expected(issues, path, 'Date', input);
  return input;
}`,
  },
  checkBigint: {
    uses: ['expected', 'types'],
    code: `// A bigint is stored as its decimal string and turned back into a bigint before process sees it.
function checkBigint(input: unknown, path: string, issues: ValidationIssue[], mode: CodecMode): unknown {
  if (mode === 'encode') {
    if (typeof input === 'bigint') return input.toString();
    expected(issues, path, 'bigint', input);
    return input;
  }
  if (typeof input === 'string' && /^-?[0-9]+$/.test(input)) return BigInt(input);
  if (typeof input === 'string') issues.push({ path, message: \`expected a decimal integer string, got \${JSON.stringify(input)}\` });
  else expected(issues, path, 'bigint', input);
  return input;
}`,
  },
  checkUnknownKeys: {
    uses: ['keyPath'],
    code: `function checkUnknownKeys(
  input: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  issues: ValidationIssue[],
): void {
  for (const key of Object.keys(input)) {
    if (input[key] === undefined || allowed.includes(key)) continue;
    issues.push({ path: keyPath(path, key), message: \`unknown key (allowed: \${allowed.join(', ')})\` });
  }
}`,
  },
  firstMatch: {
    uses: ['expected', 'types'],
    code: `// The first union member that accepts the value wins. When none does, the issues of the member
// that fits best are reported: one whose issues are all inside the value (it had the right outer
// shape), with the fewest missing keys (the value's keys are its keys), then the fewest issues.
function firstMatch(
  input: unknown,
  path: string,
  issues: ValidationIssue[],
  mode: CodecMode,
  description: string,
  checks: readonly Check[],
): unknown {
  let closest: { issues: ValidationIssue[]; missing: number } | undefined;
  for (const check of checks) {
    const attempt: ValidationIssue[] = [];
    const output = check(input, path, attempt, mode);
    if (attempt.length === 0) return output;
    if (attempt.some((issue) => issue.path === path)) continue;
    const missing = attempt.filter((issue) => issue.message.endsWith(', got undefined')).length;
    const better =
      closest === undefined ||
      missing < closest.missing ||
      (missing === closest.missing && attempt.length < closest.issues.length);
    if (better) closest = { issues: attempt, missing };
  }
  if (closest) issues.push(...closest.issues);
  else expected(issues, path, description, input);
  return input;
}`,
  },
  runCheck: {
    uses: ['types'],
    code: `function runCheck(check: Check, input: unknown, root: string, mode: CodecMode, worker: string): unknown {
  const issues: ValidationIssue[] = [];
  const output = check(input, root, issues, mode);
  if (issues.length > 0) throw new KobanValidationError(issues, worker);
  return output;
}`,
  },
  omit: {
    uses: [],
    code: `function omit(value: object, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  delete copy[key];
  return copy;
}`,
  },
};

/** The helpers named and everything they use, in a fixed order. */
export function helpersWithDependencies(names: Iterable<string>): HelperName[] {
  const wanted = new Set<HelperName>();
  const visit = (name: HelperName) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dependency of helperSources[name].uses) visit(dependency);
  };
  for (const name of names) visit(name as HelperName);
  return (Object.keys(helperSources) as HelperName[]).filter((name) => wanted.has(name));
}
