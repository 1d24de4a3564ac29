import type { ChunkDefinition } from '../../sdk/chunk.js';
import { workerAliases } from '../../sdk/registry.js';
import type { ChunkGroup } from '../engine/chunk-claim.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { Engine } from '../engine/engine.js';
import type { RunnableWorker } from '../workers/worker-catalog.js';
import type { KobanEventEmitter } from './events.js';
import type { RunningJob } from './executor.js';
import { JobAbort } from './job-abort.js';

export interface ChunkGathererDeps {
  readonly engine: Engine;
  readonly node: string;
  readonly events: KobanEventEmitter;
  /** The ids of the jobs this node holds (see convergence.ts): a chunk's jobs from their claim on. */
  readonly held: Set<string>;
  /** Whether open chunks may claim jobs of their own now (not in a limited, paused or stopping queue). */
  readonly mayFill: () => boolean;
  /**
   * The node's running jobs: a chunk's jobs are in it from their claim on, so that a cancel
   * reaches a job waiting in an open chunk (it is dropped from the chunk's call).
   */
  readonly running: Map<string, RunningJob>;
  /** Runs a closed chunk to its written outcomes. */
  readonly run: (jobs: ClaimedJob[], entry: RunnableWorker) => Promise<void>;
}

/** A chunk gathering jobs: it holds one slot of its queue from the moment it opens. */
interface OpenChunk {
  readonly key: string;
  readonly entry: RunnableWorker;
  readonly chunk: ChunkDefinition;
  readonly group: ChunkGroup;
  readonly jobs: ClaimedJob[];
  /** Jobs the fill in flight asked for: room they may take. */
  asked: number;
  filling: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The wait ended while a fill was in flight: the chunk closes as that fill returns. */
  expired: boolean;
  closed: boolean;
  readonly done: Promise<void>;
  readonly ran: () => void;
}

/**
 * Gathers one queue's jobs of chunk workers into chunks on this node. A job the queue's claim
 * hands over joins the open chunk of its group (worker and `by` values) if that has room, and
 * else opens a chunk, which takes one slot of the queue. An open chunk claims the rest of its
 * jobs itself (chunk-claim.ts), right after it opens and at each wake of the queue (an insert's
 * NOTIFY, the poll), and runs once it has `size` jobs or `timeout` has passed since it opened.
 * Every claim locks what it takes with SKIP LOCKED, so a job is in one chunk on one node.
 */
export class ChunkGatherer {
  /** The chunk of each group that new jobs join; a full one is replaced by the next. */
  private readonly open = new Map<string, OpenChunk>();
  private readonly gathering = new Set<OpenChunk>();
  private fillScheduled = false;

  constructor(
    private readonly queue: string,
    private readonly deps: ChunkGathererDeps,
  ) {}

  /**
   * Takes a claimed job of a chunk worker. Returns, when the job opened a chunk (one more slot
   * taken), what resolves once that chunk has run; undefined when it joined one.
   */
  add(claimed: ClaimedJob, entry: RunnableWorker): Promise<void> | undefined {
    this.hold(claimed);
    const chunk = entry.definition.chunk!;
    const values = groupValues(claimed, chunk);
    const key = `${entry.definition.name}\u0000${values}`;
    const joined = this.open.get(key);
    if (joined && room(joined) > 0) {
      joined.jobs.push(claimed);
      if (room(joined) <= 0 && !joined.filling) this.close(joined);
      return undefined;
    }
    let ran!: () => void;
    const done = new Promise<void>((resolve) => {
      ran = resolve;
    });
    const opened: OpenChunk = {
      key,
      entry,
      chunk,
      group: {
        queue: this.queue,
        workers: [entry.definition.name, ...workerAliases(entry.worker)],
        args: chunk.args,
        meta: chunk.meta,
        values,
      },
      jobs: [claimed],
      asked: 0,
      filling: undefined,
      timer: undefined,
      expired: false,
      closed: false,
      done,
      ran,
    };
    this.open.set(key, opened);
    this.gathering.add(opened);
    if (room(opened) <= 0) {
      this.close(opened);
      return done;
    }
    opened.timer = setTimeout(() => this.close(opened), chunk.timeout);
    // The rest of the claim that brought this job joins first; the chunk asks for what is left after.
    this.fillSoon();
    return done;
  }

  /** The queue was woken: every open chunk with room asks for more jobs. */
  wake(): void {
    if (this.gathering.size === 0 || !this.deps.mayFill()) return;
    for (const chunk of this.gathering) this.fill(chunk);
  }

  /** Runs every open chunk at once with the jobs it has, as the queue stops; resolves when all have run. */
  async flush(): Promise<void> {
    const open = [...this.gathering];
    for (const chunk of open) {
      chunk.expired = true;
      this.close(chunk);
    }
    await Promise.all(open.map((chunk) => chunk.done));
  }

  private hold(job: ClaimedJob): void {
    this.deps.held.add(job.id);
    this.deps.running.set(job.id, { id: job.id, abort: new JobAbort() });
  }

  private fillSoon(): void {
    if (this.fillScheduled) return;
    this.fillScheduled = true;
    setImmediate(() => {
      this.fillScheduled = false;
      this.wake();
    });
  }

  private fill(chunk: OpenChunk): void {
    const wanted = room(chunk);
    if (chunk.closed || chunk.filling || wanted <= 0) return;
    chunk.asked = wanted;
    chunk.filling = this.deps.engine
      .claimChunk(chunk.group, wanted, this.deps.node)
      .then(
        (jobs) => {
          for (const job of jobs) {
            this.hold(job);
            chunk.jobs.push(job);
          }
        },
        (error) => this.deps.events.emit('error', { source: `chunk ${chunk.entry.definition.name}`, error }),
      )
      .finally(() => {
        chunk.asked = 0;
        chunk.filling = undefined;
        if (!chunk.expired && room(chunk) > 0) this.merge(chunk);
        if (chunk.expired || room(chunk) <= 0) this.close(chunk);
      });
  }

  /**
   * Moves into a chunk with room the jobs of its group that other open chunks hold: a job the
   * queue claimed while this chunk's fill was out opened a chunk of its own, and at the end of a
   * backlog both would wait out their timeout half full. A chunk left empty closes, freeing its slot.
   */
  private merge(into: OpenChunk): void {
    for (const other of this.gathering) {
      if (other === into || other.key !== into.key || other.filling || other.closed) continue;
      into.jobs.push(...other.jobs.splice(0, Math.min(room(into), other.jobs.length)));
      if (other.jobs.length === 0) this.close(other);
      if (room(into) <= 0) return;
    }
  }

  /** Ends the chunk's gathering and runs it; a fill in flight is waited for, since its jobs are the chunk's. */
  private close(chunk: OpenChunk): void {
    if (chunk.closed) return;
    if (chunk.filling) {
      chunk.expired = true;
      return;
    }
    chunk.closed = true;
    clearTimeout(chunk.timer);
    if (this.open.get(chunk.key) === chunk) this.open.delete(chunk.key);
    this.gathering.delete(chunk);
    // Claims and merges may have brought the jobs out of order: process gets them in the queue's.
    if (chunk.jobs.length > 1) chunk.jobs.sort(queueOrder);
    void this.deps.run(chunk.jobs, chunk.entry).finally(chunk.ran);
  }
}

/** The order of every claim: priority, due time, id (ids are bigints as text). */
function queueOrder(a: ClaimedJob, b: ClaimedJob): number {
  return (
    a.priority - b.priority ||
    a.scheduledAt.getTime() - b.scheduledAt.getTime() ||
    a.id.length - b.id.length ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function room(chunk: OpenChunk): number {
  return chunk.chunk.size - chunk.jobs.length - chunk.asked;
}

/**
 * The values of a job's `by` keys, as a JSON array in a canonical form (object keys sorted), so
 * that jobs the database finds equal gather in one chunk here too. A missing key is null.
 */
function groupValues(job: ClaimedJob, chunk: ChunkDefinition): string {
  if (chunk.args.length === 0 && chunk.meta.length === 0) return '[]';
  const args = job.args as unknown as Record<string, unknown>;
  const values = [...chunk.args.map((key) => args?.[key]), ...chunk.meta.map((key) => job.meta[key])];
  return canonical(values);
}

function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
