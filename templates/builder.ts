/** Names of one worker's generated pieces. */
export interface BuilderNames {
  readonly className: string;
  readonly classAlias: string;
  readonly argsType: string;
  readonly resultType: string;
  readonly argsCodec: string;
  readonly argsCheck: string;
  readonly resultCodec: string | undefined;
  readonly resultCheck: string | undefined;
  readonly storedName: string;
}

export function codecSource(
  codec: string,
  check: string,
  type: string,
  root: string,
  storedName: string,
): string {
  const name = JSON.stringify(storedName).replace(/^"|"$/g, "'");
  return `const ${codec}: Codec<${type}> = {
  encode: (value) => runCheck(${check}, value, '${root}', 'encode', ${name}),
  decode: (data) => runCheck(${check}, data, '${root}', 'decode', ${name}) as ${type},
};`;
}

/**
 * The builder of one worker. A `@Recorded` worker's builder is also a `RecordedFetcher`: its
 * `fetchRecorded(koban, job)` is typed by the worker's result and decoded with its result codec.
 */
export function builderSource(names: BuilderNames, summary: string, recorded: boolean): string {
  const fetcherType = recorded ? ` & RecordedFetcher<${names.resultType}>` : '';
  const codecOption = names.resultCodec ? `, { codec: ${names.resultCodec} }` : '';
  const fetcher = recorded
    ? `
  /** The value process returned: { status: 'ok', value } or { status: 'missing', reason, message }. */
  fetchRecorded(koban, job) {
    return koban.fetchRecorded<${names.resultType}>(job${codecOption});
  },`
    : '';
  return `/** ${summary} */
export const ${names.className}: JobBuilder<typeof ${names.classAlias}>${fetcherType} = {
  get worker() {
    return ${names.classAlias};
  },
  codec: ${names.argsCodec},
  new(args, options = {}) {
    return newJob(${names.classAlias}, args, options, ${names.argsCodec}, ${names.argsCodec}.encode(args));
  },${fetcher}
};`;
}

export function typesSource(names: BuilderNames): string {
  return `export type ${names.argsType} = ArgsOf<typeof ${names.classAlias}>;
export type ${names.resultType} = ResultOf<typeof ${names.classAlias}>;`;
}

export const invalidArgsSource = `/** Args a worker's validator must reject, and the issue it reports (\`path: message\`). */
export interface InvalidArgs {
  readonly args: unknown;
  readonly error: string;
}`;

/** The type that each worker's args keys are checked with; see `argsKeysCheckSource`. */
export const sameKeysSource = `/** true when T has exactly the keys K; false means this module is stale: run \`npx gen\`. */
type SameKeys<T, K> = [keyof T] extends [K] ? ([K] extends [keyof T] ? true : false) : false;`;

/**
 * A statement that fails to compile once the worker's args keys differ from those gen read, so
 * that `tsc` reports a stale module instead of its validators checking the old shape.
 */
export function argsKeysCheckSource(names: BuilderNames, keys: readonly string[]): string {
  const union = keys.map((key) => `'${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(' | ');
  return `// Fails to compile once ${names.className}'s args keys differ from this file's: run \`npx gen\` again.
true satisfies SameKeys<${names.argsType}, ${union}>;`;
}
