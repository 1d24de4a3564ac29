import { longestDelaySeconds } from './due-time.js';
import { KobanValidationError } from './errors.js';

const outcomeBrand = Symbol.for('koban.outcome');

/** A non-default result returned from `process`: cancel, snooze or discard. */
export type ControlOutcome =
  | { readonly [outcomeBrand]: true; readonly kind: 'cancel'; readonly reason: string }
  | { readonly [outcomeBrand]: true; readonly kind: 'discard'; readonly reason: string }
  | { readonly [outcomeBrand]: true; readonly kind: 'snooze'; readonly seconds: number };

/** Stop the job for good: it ends `cancelled` with the reason recorded. */
export function cancel(reason: string): ControlOutcome {
  return { [outcomeBrand]: true, kind: 'cancel', reason };
}

/** Give up on the job at once, whatever attempts remain: it ends `discarded`. */
export function discard(reason: string): ControlOutcome {
  return { [outcomeBrand]: true, kind: 'discard', reason };
}

/**
 * Run the job again in `seconds`; the attempt is not spent. A delay that would fall after
 * 9999-12-31 is refused here, where the mistake is, rather than when the outcome is written.
 */
export function snooze(seconds: number): ControlOutcome {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new KobanValidationError([
      { path: 'snooze(seconds)', message: `expected a non-negative number of seconds, got ${seconds}` },
    ]);
  }
  if (seconds > longestDelaySeconds()) {
    throw new KobanValidationError([
      {
        path: 'snooze(seconds)',
        message: `${seconds} seconds from now is after 9999-12-31, the latest due time Koban stores`,
      },
    ]);
  }
  return { [outcomeBrand]: true, kind: 'snooze', seconds };
}

export function isControlOutcome(value: unknown): value is ControlOutcome {
  return typeof value === 'object' && value !== null && outcomeBrand in value;
}
