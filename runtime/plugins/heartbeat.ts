import { sql } from 'drizzle-orm';
import type { Database } from '../database/database.js';
import { Periodic } from '../node/periodic.js';
import type { KobanPlugin, PluginContext } from '../plugin.js';
import { claimLeadership, resignLeadership } from './leader.js';

export interface HeartbeatOptions {
  readonly schema: string;
  readonly node: string;
  readonly queues: readonly string[];
  readonly interval: number;
  readonly rescueAfter: number;
  /** Called when this node becomes the leader or stops being it. */
  readonly onLeadership: (leader: boolean) => Promise<void>;
}

/**
 * Records that this node is alive and which queues it runs, and holds or claims leadership for
 * the leader-only plugins. It starts with a first beat before the node claims any job: the
 * lifeline takes a job attempted by a node it has no record of for an orphan.
 */
export class Heartbeat implements KobanPlugin {
  readonly name = 'heartbeat';
  private periodic: Periodic | undefined;
  private beaten = false;
  private leader = false;
  /** Date.now() of the last heartbeat that reached the database. */
  private lastBeatAt: number | undefined;
  /** The lifeline waits until then after this node lost the database: see beat(). */
  private rescueFrom = 0;

  constructor(
    private readonly database: Database,
    private readonly options: HeartbeatOptions,
  ) {}

  async start(context: PluginContext): Promise<void> {
    await this.beat();
    this.periodic = new Periodic(
      this.options.interval,
      () => this.beat(),
      (error) => context.reportError(error),
    );
    this.periodic.start(this.options.interval);
  }

  async stop(): Promise<void> {
    await this.periodic?.stop();
    this.periodic = undefined;
  }

  /**
   * Leaves: gives up leadership, and forgets the node unless `keepNode`, which leaves its row so
   * that the jobs it still holds are rescued once its heartbeat has lapsed.
   */
  async depart({ keepNode }: { keepNode: boolean }): Promise<void> {
    const { schema, node } = this.options;
    if (this.leader) {
      this.leader = false;
      await this.options.onLeadership(false);
      await resignLeadership(this.database, schema, node).catch(() => undefined);
    }
    if (!keepNode) await removeNode(this.database, schema, node).catch(() => undefined);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Whether the lifeline may take silent nodes for dead now. Beats this node missed because the
   * database was away, every node missed: the others get a `rescueAfter` to beat again before
   * any of them is taken for dead and its jobs run twice. Until this node's own beats reach the
   * database again, it cannot tell such an outage from dead nodes, so it rescues nothing: the
   * lifeline's timer may fire before the first beat after an outage does.
   */
  get mayRescue(): boolean {
    const now = Date.now();
    const beating = this.lastBeatAt !== undefined && now - this.lastBeatAt <= 2 * this.options.interval;
    return beating && now >= this.rescueFrom;
  }

  private async beat(): Promise<void> {
    const { schema, node, queues, interval, rescueAfter } = this.options;
    await beat(this.database, schema, node, queues, !this.beaten);
    const now = Date.now();
    if (this.lastBeatAt !== undefined && now - this.lastBeatAt > 2 * interval)
      this.rescueFrom = now + rescueAfter;
    this.lastBeatAt = now;
    this.beaten = true;
    const leader = await claimLeadership(this.database, schema, node, interval * 3);
    if (leader !== this.leader) {
      this.leader = leader;
      await this.options.onLeadership(leader);
    }
  }
}

/**
 * The first beat of a process restarts the node's clock: jobs attempted under the same name
 * before it belong to a dead process.
 */
async function beat(
  database: Database,
  schema: string,
  node: string,
  queues: readonly string[],
  first: boolean,
) {
  await database.query(sql`
    INSERT INTO ${sql.raw(schema)}.nodes AS n (name, queues) VALUES (${node}, ${sql.param([...queues])}::text[])
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues,
      started_at = CASE WHEN ${first}::boolean THEN now() ELSE n.started_at END`);
}

async function removeNode(database: Database, schema: string, node: string) {
  await database.query(sql`DELETE FROM ${sql.raw(schema)}.nodes WHERE name = ${node}`);
}

/** Queues that some live node runs. */
export async function liveQueues(
  database: Database,
  schema: string,
  staleAfterMs: number,
): Promise<Set<string>> {
  const rows = await database.query<{ queue: string }>(sql`
    SELECT DISTINCT unnest(queues) AS queue FROM ${sql.raw(schema)}.nodes
    WHERE heartbeat_at > now() - ${staleAfterMs} * interval '1 millisecond'`);
  return new Set(rows.map((row) => row.queue));
}
