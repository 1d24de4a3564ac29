/** Where a node's messages go: `console` by default, or any logger of the same shape. */
export interface KobanLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export const consoleLogger: KobanLogger = {
  info: (message, details) => console.info(`[koban] ${message}`, details ?? ''),
  warn: (message, details) => console.warn(`[koban] ${message}`, details ?? ''),
  error: (message, details) => console.error(`[koban] ${message}`, details ?? ''),
};
