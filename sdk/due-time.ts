/**
 * The latest due time Koban stores: 9999-12-31 23:59:59 UTC. PostgreSQL's timestamptz goes
 * further, but a time past 9999 does not come back unchanged as text, and a delay beyond it is a
 * mistake (a unit mix-up, an overflowing backoff), not a plan.
 */
export const latestDueTime = Date.UTC(9999, 11, 31, 23, 59, 59);

/** The longest delay from `now` that still falls on or before the latest due time, in seconds. */
export function longestDelaySeconds(now = Date.now()): number {
  return Math.floor((latestDueTime - now) / 1000);
}
