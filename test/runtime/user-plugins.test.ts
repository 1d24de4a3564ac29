import { beforeAll, describe, expect, it } from 'vitest';
import { type Koban, KobanConfigError, type KobanPlugin, type PluginContext } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// Plugins passed to Koban.start run beside Koban's own: the others on every node, a leaderOnly
// plugin on the leader alone, moving to another node when the leader stops.

let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

/** A plugin that records which nodes run it. */
function probe(name: string, leaderOnly: boolean, running: Set<string>, log: string[]): KobanPlugin {
  let node: string | undefined;
  return {
    name,
    leaderOnly,
    start(context: PluginContext) {
      node = context.node;
      running.add(context.node);
      log.push(`start ${context.node}`);
    },
    stop() {
      running.delete(node!);
      log.push(`stop ${node}`);
    },
  };
}

// A leader steps down when a renewal takes longer than 1.5 intervals (see peer.ts): beats of
// 250 ms keep a loaded test machine from handing leadership back and forth.
const fast = { heartbeatInterval: 250, rescueAfter: 1000, blockTolerance: 250 };

describe('user plugins', () => {
  it('run a leaderOnly plugin on one node at a time, and hand it over when the leader stops', async () => {
    const running = new Set<string>();
    const log: string[] = [];
    const start = (node: string): Promise<Koban> =>
      startKoban({
        database: url,
        queues: {},
        node,
        ...fast,
        plugins: [probe('reports', true, running, log)],
      });
    const first = await start('plugin-a');
    await waitFor('the first node to lead', () => running.has('plugin-a'));
    const second = await start('plugin-b');
    // Several heartbeats later, still only the first node runs it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([...running]).toEqual(['plugin-a']);
    await first.stop();
    expect(running.has('plugin-a')).toBe(false);
    await waitFor('the second node to take over', () => running.has('plugin-b'));
    expect([...running]).toEqual(['plugin-b']);
    await second.stop();
    expect(running.size).toBe(0);
    expect(log).toEqual(['start plugin-a', 'stop plugin-a', 'start plugin-b', 'stop plugin-b']);
  });

  it('run other plugins on every node, from start to stop', async () => {
    const running = new Set<string>();
    const log: string[] = [];
    const nodes = await Promise.all(
      ['every-a', 'every-b'].map((node) =>
        startKoban({
          database: url,
          queues: {},
          node,
          ...fast,
          plugins: [probe('metrics', false, running, log)],
        }),
      ),
    );
    expect([...running].sort()).toEqual(['every-a', 'every-b']);
    await Promise.all(nodes.map((koban) => koban.stop()));
    expect(running.size).toBe(0);
  });

  it('refuse two plugins of one name, or an object that is not a plugin', async () => {
    const plugin = probe('twice', false, new Set(), []);
    await expect(startKoban({ database: url, queues: {}, plugins: [plugin, plugin] })).rejects.toThrow(
      new KobanConfigError('plugins: two plugins are named "twice"; give each its own name'),
    );
    await expect(
      startKoban({ database: url, queues: {}, plugins: [{ name: 'half' } as unknown as KobanPlugin] }),
    ).rejects.toThrow(
      /plugins: expected objects with name, start\(context\) and stop\(\), got \{"name":"half"\}/,
    );
  });
});

describe('the plugin contract', () => {
  it("gives a plugin the node's engine, as Koban's own plugins have it", async () => {
    const seen: string[] = [];
    const reader: KobanPlugin = {
      name: 'reader',
      async start(context) {
        // A plugin reads and writes through the same operations the stager and pruner use.
        seen.push(...(await context.engine.availableQueues()));
        seen.push(String(await context.engine.stage()));
      },
      stop() {},
    };
    const node = await startKoban({ database: url, queues: { plugged: 1 }, plugins: [reader] });
    await waitFor('the plugin to read through the engine', () => seen.length >= 1);
    // stage() answered with how many jobs it made available: a number.
    expect(Number.isInteger(Number(seen.at(-1)))).toBe(true);
    await node.stop();
  });

  it('refuses at start, before connecting, a plugin whose validate rejects its options', async () => {
    const strict: KobanPlugin = {
      name: 'strict',
      validate() {
        throw new Error('interval must be positive, got -5');
      },
      start() {},
      stop() {},
    };
    // The database URL points nowhere: validate must fail first, with the plugin's reason.
    const attempt = startKoban({
      database: 'postgres://nobody@127.0.0.1:1/none',
      queues: {},
      plugins: [strict],
    });
    await expect(attempt).rejects.toThrow(KobanConfigError);
    await expect(attempt).rejects.toThrow(
      'plugins: "strict" refused its options: interval must be positive, got -5',
    );
  });
});
