import { comesAfter, type QueuePosition } from '../engine/queue-position.js';

/**
 * Where a producer's next claim starts. Claimed jobs leave their entries in the fetch index;
 * a claim from the head of the queue visits each, and usually they are marked dead as it goes.
 * While a transaction pins the xmin horizon they cannot be, and every claim visits all the jobs
 * claimed since: with small claims that is a millisecond per job (2026-12-04, bench:pressure:
 * 21% of clean throughput with the horizon pinned for 60 s, 87% past the floor). So while
 * claims come back full, the next one starts past the last job taken.
 *
 * Limited claims that take jobs in the queue's order (a global limit, say: see `claimsInOrder`)
 * start past the floor too, while a limit holds jobs back.
 *
 * A job can become available behind that floor (a rescue, a staged retry, an insert of higher
 * priority or of a transaction that started earlier), so a claim from the head still goes out:
 * after a NOTIFY of new jobs, and at least once a second, but never more often than ten times
 * the last one took, which bounds what they cost while the horizon is pinned.
 */
export class ClaimFloor {
  private position: QueuePosition | undefined;
  private lastFullAt = Number.NEGATIVE_INFINITY;
  private lastFullMs = 0;
  private notified = false;

  /** New jobs were announced: the next claim may be one from the head. */
  jobsAnnounced(): void {
    this.notified = true;
  }

  /**
   * Where a claim sent now starts: undefined for the head of the queue. A claim from the head
   * counts from its start, so that the claims sent while it runs start past the floor.
   */
  start(now: number): QueuePosition | undefined {
    if (this.position !== undefined) {
      const since = now - this.lastFullAt;
      const spacing = 10 * this.lastFullMs;
      const due = since >= Math.max(fullClaimEveryMs, spacing) || (this.notified && since >= spacing);
      if (!due) return this.position;
    }
    this.lastFullAt = now;
    this.notified = false;
    return undefined;
  }

  /**
   * What a claim that started at `from` (undefined: the head) took: `more` when jobs are left past
   * it (it came back with as many as it asked for, or a cluster-wide limit held the rest back),
   * `last` the position of its last job (none if it took none), `ms` how long it took.
   */
  claimed(from: QueuePosition | undefined, more: boolean, last: QueuePosition | undefined, ms: number): void {
    if (from === undefined) this.lastFullMs = ms;
    if (!more) {
      // The queue past the floor ran dry: the next claim looks from the head.
      this.position = undefined;
      return;
    }
    // A limit with no free slot took nothing: the floor stays where it was.
    if (last === undefined) return;
    // A claim from the head sets the floor even lower than it was: jobs were found behind it.
    if (from === undefined || this.position === undefined || comesAfter(last, this.position))
      this.position = last;
  }

  /** A claim that failed or was abandoned after `ms`: one from the head is spaced by that too. */
  failed(from: QueuePosition | undefined, ms: number): void {
    if (from === undefined) this.lastFullMs = Math.max(this.lastFullMs, ms);
  }
}

/** The longest a job that became available behind the floor waits for a claim from the head. */
const fullClaimEveryMs = 1000;
