/**
 * Waits for `work` until `deadline` (a Date.now() time): true if it finished in time, false if
 * not. A rejection in time is thrown; one after the deadline is ignored. For steps that talk to a
 * database that may never answer, where the caller has a promise to keep (stop() and its
 * shutdownGrace).
 */
export async function finishedBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `work` for at most `ms`: its value, or `late` if it did not settle in time. A
 * rejection in time is thrown; what it settles to afterwards is dropped.
 */
export async function valueWithin<T>(work: Promise<T>, ms: number): Promise<T | typeof late> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof late>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** What valueWithin returns for work that missed its deadline. */
export const late: unique symbol = Symbol('late');
