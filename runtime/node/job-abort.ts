/**
 * The abort signal of one attempt, made only when something asks for it. Most jobs never read
 * `job.signal` and are never aborted, and an AbortController per job is a measurable share of
 * the cost of running a no-op job.
 */
export class JobAbort {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private isAborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
