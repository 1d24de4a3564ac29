import { Cron } from 'croner';

/** The expression of an entry that runs once when its node first leads, instead of on a schedule. */
export const rebootExpression = '@reboot';

/**
 * When an entry's ticks fall: a croner schedule, or none for `@reboot`. Throws croner's error
 * for a bad expression or time zone (callers say which entry it was).
 */
export class CronSchedule {
  private readonly cron: Cron | undefined;

  constructor(
    readonly expression: string,
    readonly timezone: string | null | undefined,
  ) {
    if (expression.trim() === rebootExpression) return;
    this.cron = new Cron(expression, { timezone: timezone ?? undefined, paused: true });
    // A paused schedule checks its time zone only when asked for a run: ask now.
    this.cron.nextRun();
  }

  get reboot(): boolean {
    return this.cron === undefined;
  }

  /** The first tick after `after`; null for `@reboot` or a schedule with no tick left. */
  next(after: Date): Date | null {
    return this.cron?.nextRun(after) ?? null;
  }

  /** The newest tick at or before `at`; null when there is none. */
  latest(at: Date): Date | null {
    if (!this.cron) return null;
    // previousRuns looks strictly before its reference: a tick exactly at `at` counts.
    const [tick] = this.cron.previousRuns(1, new Date(at.getTime() + 1));
    return tick ?? null;
  }
}

/** Says what is wrong with an expression or zone; undefined when they are usable. */
export function scheduleProblem(expression: unknown, timezone: unknown): string | undefined {
  if (typeof expression !== 'string' || expression.trim() === '') {
    return `expression must be a cron expression such as "0 6 * * *", a nickname such as "@hourly", or "@reboot", got ${JSON.stringify(expression)}`;
  }
  if (timezone !== undefined && timezone !== null && typeof timezone !== 'string') {
    return `timezone must be an IANA zone name such as "Europe/Paris", got ${JSON.stringify(timezone)}`;
  }
  try {
    new CronSchedule(expression, timezone as string | null | undefined);
    return undefined;
  } catch (error) {
    return `invalid cron expression ${JSON.stringify(expression)}${timezone ? ` or timezone ${JSON.stringify(timezone)}` : ''}: ${(error as Error).message}`;
  }
}
