/** Extra fields of a log line: ids, names, counts, an error. Never a job's args. */
export type LogDetails = Record<string, unknown>;

/**
 * One level of a logger, in pino's order: `(details, message)`, or `(message)` alone. pino's
 * methods and `console.info` fit as they are.
 */
export type LogMethod = (detailsOrMessage: LogDetails | string, message?: string) => void;

/**
 * Where a node's messages go: `console` by default, or a pino (or any logger of this shape).
 * Koban calls `logger.warn({ worker, id, attempt, error }, 'job 12 discarded ...')`. `debug` is
 * optional: without it, debug lines are dropped.
 */
export interface KobanLogger {
  debug?: LogMethod | undefined;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** The least severe level a node logs; `silent` logs nothing. */
export type LogLevel = (typeof logLevels)[number];

const consoleMethod =
  (write: (...data: unknown[]) => void): LogMethod =>
  (detailsOrMessage, message) => {
    if (typeof detailsOrMessage === 'string') write(`[koban] ${detailsOrMessage}`);
    else write(`[koban] ${message ?? ''}`, detailsOrMessage);
  };

/** The default: every level on stderr, so that a program's stdout stays its own (JSON output, pipes). */
export const consoleLogger: KobanLogger = {
  debug: consoleMethod((...data) => console.error(...data)),
  info: consoleMethod((...data) => console.error(...data)),
  warn: consoleMethod((...data) => console.warn(...data)),
  error: consoleMethod((...data) => console.error(...data)),
};

const dropped: LogMethod = () => {};

/**
 * The node's logger: the configured one, with the levels below `level` dropped before they
 * reach it (so a pino at `debug` still gets only what the node was told to log), and a missing
 * `debug` filled in. Every method is bound, so it can be passed around.
 */
export function levelledLogger(logger: KobanLogger, level: LogLevel): Required<KobanLogger> {
  const rank = logLevels.indexOf(level);
  const pick = (at: LogLevel, method: LogMethod | undefined): LogMethod =>
    method && logLevels.indexOf(at) >= rank ? method.bind(logger) : dropped;
  return {
    debug: pick('debug', logger.debug),
    info: pick('info', logger.info),
    warn: pick('warn', logger.warn),
    error: pick('error', logger.error),
  };
}
