import { KobanConfigError, KobanError } from '../../sdk/errors.js';
import type { Engine } from '../engine/engine.js';
import type { KobanPlugin, PluginContext } from '../plugins/plugin.js';
import type { KobanLogger } from './logger.js';

export interface PluginHost {
  readonly node: string;
  readonly logger: KobanLogger;
  readonly engine: Engine;
  /** Reports a failure; `source` names the plugin. */
  report(source: string, error: unknown): void;
}

/**
 * Checks plugins before a node connects: each has a name, start and stop, names are unique, and
 * each plugin's own `validate` accepts its options. Throws a KobanConfigError naming the plugin.
 */
export function checkPlugins(plugins: readonly KobanPlugin[]): void {
  const names = new Set<string>();
  for (const plugin of plugins) {
    if (
      typeof plugin?.name !== 'string' ||
      typeof plugin.start !== 'function' ||
      typeof plugin.stop !== 'function'
    ) {
      throw new KobanConfigError(
        `plugins: expected objects with name, start(context) and stop(), got ${JSON.stringify(plugin)}`,
      );
    }
    if (names.has(plugin.name)) {
      throw new KobanConfigError(`plugins: two plugins are named "${plugin.name}"; give each its own name`);
    }
    names.add(plugin.name);
    try {
      plugin.validate?.();
    } catch (error) {
      if (error instanceof KobanConfigError) throw error;
      const reason = error instanceof KobanError || error instanceof Error ? error.message : String(error);
      throw new KobanConfigError(`plugins: "${plugin.name}" refused its options: ${reason}`, {
        cause: error,
      });
    }
  }
}

/**
 * Starts and stops a node's plugins: the others at start, the leader-only ones when the node
 * becomes the leader (and stops them when it stops being it). Leadership changes are applied
 * one at a time, in order.
 */
export class PluginRunner {
  private readonly running = new Set<KobanPlugin>();
  private leader = false;
  private stopped = false;
  private changes: Promise<void> = Promise.resolve();

  constructor(
    private readonly plugins: readonly KobanPlugin[],
    private readonly host: PluginHost,
  ) {
    checkPlugins(plugins);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Starts the plugins that run on every node, in order. */
  async start(): Promise<void> {
    for (const plugin of this.plugins) {
      if (plugin.leaderOnly) continue;
      await plugin.start(this.contextOf(plugin));
      this.running.add(plugin);
    }
  }

  private contextOf(plugin: KobanPlugin): PluginContext {
    const { node, logger, engine } = this.host;
    return { node, logger, engine, reportError: (error) => this.host.report(plugin.name, error) };
  }

  /** Starts or stops the leader-only plugins. */
  setLeader(leader: boolean): Promise<void> {
    this.changes = this.changes.then(async () => {
      if (this.stopped || leader === this.leader) return;
      this.leader = leader;
      const leaderOnly = this.plugins.filter((plugin) => plugin.leaderOnly);
      if (leader) for (const plugin of leaderOnly) await this.startOne(plugin);
      // All at once: one whose stop waits for a statement the database does not answer (the
      // reason a leader steps down) must not keep the others running past the lease.
      else await Promise.all(leaderOnly.map((plugin) => this.stopOne(plugin)));
    });
    return this.changes;
  }

  /** Stops every running plugin, last started first. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.changes;
    for (const plugin of [...this.running].reverse()) await this.stopOne(plugin);
  }

  private async startOne(plugin: KobanPlugin): Promise<void> {
    try {
      await plugin.start(this.contextOf(plugin));
      this.running.add(plugin);
    } catch (error) {
      this.host.report(plugin.name, error);
    }
  }

  private async stopOne(plugin: KobanPlugin): Promise<void> {
    if (!this.running.delete(plugin)) return;
    try {
      await plugin.stop();
    } catch (error) {
      this.host.report(plugin.name, error);
    }
  }
}
