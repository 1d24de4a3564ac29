import { latestDueTime } from './due-time.js';
import { type Fault, faultError } from './errors.js';

/** What becomes of a job whose deadline passes before it starts. */
export type DeadlineAction = 'cancel' | 'discard';

/**
 * The time by which a job must have started: seconds from its insert, a `Date`, or either with
 * what to do when it passes (`action`, default `'cancel'`). A job past its deadline is never
 * started; one already running when it passes runs on.
 */
export type Deadline =
  | number
  | Date
  | { readonly in: number; readonly action?: DeadlineAction }
  | { readonly at: Date; readonly action?: DeadlineAction };

/** A deadline as a job row stores it. */
export interface JobDeadline {
  readonly at: Date;
  readonly action: DeadlineAction;
}

/** Checks a deadline option and resolves it against the insert time `now` (epoch ms). */
export function resolveDeadline(value: unknown, where: string, now: number, fault: Fault): JobDeadline {
  const { time, action } = checkDeadline(value, where, fault);
  const at = typeof time === 'number' ? new Date(now + time * 1000) : time;
  if (!(at.getTime() >= 0 && at.getTime() <= latestDueTime)) {
    throw faultError(fault, where, `deadline ${at.toISOString()} is outside the years 1970 to 9999`);
  }
  return { at, action };
}

/** Checks the shape of a deadline option: seconds or a valid Date, and `action` if given. */
export function checkDeadline(
  value: unknown,
  where: string,
  fault: Fault,
): { time: number | Date; action: DeadlineAction } {
  const expected =
    'deadline must be seconds from insert, a Date, { in: seconds } or { at: Date }, ' +
    "each with action: 'cancel' | 'discard'";
  let time: unknown = value;
  let action: unknown = 'cancel';
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const keys = Object.keys(value);
    const form = value as { in?: unknown; at?: unknown; action?: unknown };
    const stray = keys.filter((key) => key !== 'in' && key !== 'at' && key !== 'action');
    if (stray.length > 0 || 'in' in form === 'at' in form) {
      throw faultError(fault, where, `${expected}; got ${describe(value)}`);
    }
    time = 'in' in form ? form.in : form.at;
    if (form.action !== undefined) action = form.action;
  }
  if (action !== 'cancel' && action !== 'discard') {
    throw faultError(fault, where, `deadline action must be 'cancel' or 'discard', got ${describe(action)}`);
  }
  if (typeof time === 'number') {
    if (!Number.isFinite(time) || time < 0) {
      throw faultError(fault, where, `deadline must be seconds of at least 0, got ${time}`);
    }
    return { time, action };
  }
  if (time instanceof Date && !Number.isNaN(time.getTime())) return { time, action };
  throw faultError(fault, where, `${expected}; got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value instanceof Date) return 'an invalid Date';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
