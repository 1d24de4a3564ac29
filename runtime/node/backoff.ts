/** Oban's default: `15 + 2^attempt` seconds, plus up to 10% jitter so that failed jobs spread out. */
export function defaultBackoff(attempt: number, random: () => number = Math.random): number {
  const base = 15 + 2 ** Math.min(attempt, 20);
  return base + Math.floor(base * 0.1 * random());
}
