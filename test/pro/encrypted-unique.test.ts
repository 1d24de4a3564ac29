import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { canonicalJson } from '../../runtime/workers/unique.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { rawJob } from './support.js';

type Sensitive = { userId: string; ssn: string };
const keys = { current: randomBytes(32) };

/** The seed's rule: encrypted args differ on every insert, so uniqueness goes by meta. */
class SensitiveWorker {
  async process(_job: Job<Sensitive>) {}
}
defineWorker(SensitiveWorker, { queue: 'secure', encrypted: { key: () => keys.current } });

/** Beyond the seed: unique by an encrypted arg, through a keyed fingerprint. */
class KeyedSensitiveWorker {
  async process(_job: Job<Sensitive>) {}
}
defineWorker(KeyedSensitiveWorker, {
  queue: 'secure',
  encrypted: { key: () => keys.current },
  unique: { keys: ['userId'], period: 'infinity' },
});

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

const start = () =>
  startKoban({ database: url, queues: {}, workers: [SensitiveWorker, KeyedSensitiveWorker] });

describe('unique encrypted jobs', () => {
  it('unique by meta keys, as in the seed', async () => {
    const koban = await start();
    const insert = (ssn: string, userId: string) =>
      koban.insert(newJob(SensitiveWorker, { userId, ssn }, { meta: { userId } }), {
        unique: { keys: [], meta: ['userId'] },
      });
    const first = await insert('111-11-1111', 'u1');
    const second = await insert('222-22-2222', 'u1');
    const other = await insert('111-11-1111', 'u2');
    expect(second).toMatchObject({ id: first.id, conflict: true });
    expect(other.conflict).toBe(false);
  });

  it('unique by an encrypted arg through an HMAC keyed by the worker key, not a plain hash', async () => {
    const koban = await start();
    const first = await koban.insert(newJob(KeyedSensitiveWorker, { userId: 'alice', ssn: '1' }));
    const second = await koban.insert(newJob(KeyedSensitiveWorker, { userId: 'alice', ssn: '2' }));
    const bob = await koban.insert(newJob(KeyedSensitiveWorker, { userId: 'bob', ssn: '1' }));
    expect(second).toMatchObject({ id: first.id, conflict: true });
    expect(bob.conflict).toBe(false);
    const row = await rawJob(url, first.id);
    const compared = { worker: 'KeyedSensitiveWorker', queue: 'secure', args: { userId: 'alice' } };
    // A plain hash of the compared values could be found by guessing them; the stored key is not that hash.
    expect(row.unique_key).toMatch(/^[0-9a-f]{64}$/);
    expect(row.unique_key).not.toBe(createHash('sha256').update(canonicalJson(compared)).digest('hex'));
    expect(JSON.stringify(row)).not.toContain('alice');
  });

  it('after a key rotation, new jobs no longer meet jobs fingerprinted under the old key (documented)', async () => {
    const before = await (await start()).insert(newJob(KeyedSensitiveWorker, { userId: 'carol', ssn: '1' }));
    const oldKey = keys.current;
    keys.current = randomBytes(32);
    try {
      const after = await (await start()).insert(newJob(KeyedSensitiveWorker, { userId: 'carol', ssn: '1' }));
      expect(after.conflict).toBe(false);
      expect(after.id).not.toBe(before.id);
    } finally {
      keys.current = oldKey;
    }
  });
});
