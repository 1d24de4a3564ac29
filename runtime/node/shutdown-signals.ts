/** The signals a container stop (SIGTERM) and Ctrl-C (SIGINT) send. */
export const defaultShutdownSignals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * On the first of `signals`, runs `stop` (which waits for running jobs), then raises the signal
 * again with the handlers removed, so that the process ends as it would have without them (exit
 * status 128 + signal number) unless the application listens for that signal itself. A second
 * signal while stopping ends the process at once. Returns a function that removes the handlers.
 */
export function onShutdownSignals(
  signals: readonly NodeJS.Signals[],
  stop: () => Promise<void>,
  reportError: (error: unknown) => void,
): () => void {
  let stopping = false;
  const remove = () => {
    for (const signal of signals) process.off(signal, handle);
  };
  const raise = (signal: NodeJS.Signals) => {
    remove();
    // Only when nobody else handles it: the application's own handler decides then.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  function handle(signal: NodeJS.Signals): void {
    if (stopping) {
      raise(signal);
      return;
    }
    stopping = true;
    stop().then(
      () => raise(signal),
      (error: unknown) => {
        reportError(error);
        raise(signal);
      },
    );
  }
  for (const signal of signals) process.on(signal, handle);
  return remove;
}
