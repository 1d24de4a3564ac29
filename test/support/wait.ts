/** Polls until `check` returns a truthy value, failing with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const quietLogger = { info() {}, warn() {}, error() {} };

/** The message of a log call, whichever of pino's two forms it took: `(message)` or `(details, message)`. */
export function logText(detailsOrMessage: unknown, message?: string): string {
  return typeof detailsOrMessage === 'string' ? detailsOrMessage : (message ?? '');
}
