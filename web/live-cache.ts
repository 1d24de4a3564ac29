import { createHash } from 'node:crypto';

/**
 * Answers of read endpoints, shared by every open tab: an answer is computed at most once per
 * interval per URL, however many tabs poll it, and carries an ETag so that a tab whose data did
 * not change gets a 304 with no body.
 */
export class LiveCache {
  private readonly entries = new Map<
    string,
    { at: number; answer: Promise<{ body: string; etag: string }> }
  >();

  constructor(private readonly intervalMs: number) {}

  get(key: string, compute: () => Promise<unknown>): Promise<{ body: string; etag: string }> {
    const now = Date.now();
    const cached = this.entries.get(key);
    if (cached && now - cached.at < this.intervalMs) return cached.answer;
    const answer = compute().then((value) => {
      const body = JSON.stringify(value);
      return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    });
    this.entries.set(key, { at: now, answer });
    // A failed read is not kept: the next poll tries again.
    answer.catch(() => this.entries.delete(key));
    if (this.entries.size > 500) this.entries.delete(this.entries.keys().next().value!);
    return answer;
  }

  /** After a write, the next read of every page is fresh. */
  clear(): void {
    this.entries.clear();
  }
}
