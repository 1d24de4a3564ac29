/** The packages `npx gen` needs beyond koban's own dependencies: optional peers of koban. */
const codegenPackages = ['ts-morph'] as const;

/** Undefined when gen can run; else a message naming what to install. */
export async function requireCodegenDependencies(
  load: (name: string) => Promise<unknown> = (name) => import(name),
): Promise<string | undefined> {
  const missing: string[] = [];
  for (const name of codegenPackages) {
    try {
      await load(name);
    } catch (error) {
      const notFound =
        (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
        String((error as Error).message).includes(name);
      if (!notFound) throw error;
      missing.push(name);
    }
  }
  if (missing.length === 0) return undefined;
  return (
    `npx gen needs ${missing.join(' and ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed ` +
    `(koban leaves ${missing.length === 1 ? 'it' : 'them'} out of production installs). ` +
    `Run \`npm install -D ${missing.join(' ')}\` and try again.`
  );
}
