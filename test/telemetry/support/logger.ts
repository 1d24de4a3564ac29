import type { KobanLogger, LogDetails } from '../../../index.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly details: LogDetails | undefined;
}

/** A logger in pino's shape that keeps every line it is given. */
export function recordingLogger(): KobanLogger & {
  lines: LogLine[];
  messages(level?: LogLine['level']): string[];
} {
  const lines: LogLine[] = [];
  const method =
    (level: LogLine['level']) =>
    (detailsOrMessage: LogDetails | string, message?: string): void => {
      if (typeof detailsOrMessage === 'string')
        lines.push({ level, message: detailsOrMessage, details: undefined });
      else lines.push({ level, message: message ?? '', details: detailsOrMessage });
    };
  return {
    lines,
    messages: (level) =>
      lines.filter((line) => level === undefined || line.level === level).map((line) => line.message),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
  };
}
