import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanConfigError, newJob } from '../../index.js';
import { allEnqueued, assertEnqueued, drainJobs, performJob } from '../../runtime/testing.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { exec, rawJob, settled } from './support.js';

type AuditArgs = { userId: string; secret: string };
const SECRET = 'tr0ub4dor-and-3-SECRET-VALUE';

const key = () => randomBytes(32).toString('base64');
/** What the key functions return; tests rotate it. */
const keyring = { current: key(), previous: key() };

const seen: AuditArgs[] = [];

class AuditWorker {
  async process(job: Job<AuditArgs>) {
    seen.push(job.args);
  }
}
defineWorker(AuditWorker, {
  queue: 'secure',
  maxAttempts: 5,
  encrypted: { keys: [async () => keyring.current, () => keyring.previous] },
});

/** Same key as AuditWorker's current one: an envelope copied between them must still fail. */
class OtherAuditWorker {
  async process(_job: Job<AuditArgs>) {}
}
defineWorker(OtherAuditWorker, { queue: 'secure', encrypted: { key: () => keyring.current } });

const ctrKey = randomBytes(32);
class CtrWorker {
  async process(job: Job<AuditArgs>) {
    seen.push(job.args);
  }
}
defineWorker(CtrWorker, { queue: 'secure', encrypted: { key: ctrKey, algorithm: 'aes-256-ctr' } });

const literalKey = key();
class LiteralKeyWorker {
  async process(job: Job<AuditArgs>) {
    seen.push(job.args);
  }
}
defineWorker(LiteralKeyWorker, { queue: 'secure', encrypted: { key: literalKey } });

const badWorker = (name: string, encrypted: object) => {
  const target = {
    [name]: class {
      async process(_job: Job<AuditArgs>) {}
    },
  }[name]!;
  return defineWorker(target, { name, queue: 'secure', encrypted: encrypted as never });
};
const ShortKeyWorker = badWorker('ShortKeyWorker', { key: randomBytes(16).toString('base64') });
const UnsetKeyWorker = badWorker('UnsetKeyWorker', { key: () => process.env.KOBAN_TEST_UNSET_KEY as string });
const NotBase64Worker = badWorker('NotBase64Worker', { key: 'this is not base64!' });
const ThrowingKeyWorker = badWorker('ThrowingKeyWorker', {
  key: async () => {
    throw new Error('vault unreachable');
  },
});
const BothKeysWorker = badWorker('BothKeysWorker', { key: key(), keys: [key()] });

const workers = [AuditWorker, OtherAuditWorker, CtrWorker, LiteralKeyWorker];
let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

const start = (queues: Record<string, number> = { secure: 4 }) =>
  startKoban({ database: url, queues, workers });

/** Runs one job on a fresh node and returns it as stored afterwards. */
async function runInserted(id: string) {
  const koban = await start();
  return settled(koban, id);
}

async function insertAudit(args: AuditArgs, meta = {}) {
  const koban = await start({});
  const job = await koban.insert(newJob(AuditWorker, args, { meta }));
  await koban.stop();
  return job;
}

describe('@Encrypted args at rest', () => {
  it('round-trips: process sees the args, the stored row holds no byte of the secret', async () => {
    const job = await insertAudit({ userId: 'u-1', secret: SECRET }, { tenant: 'acme' });
    const [raw] = (await exec(url, 'SELECT j::text AS text, args FROM koban.all_jobs j WHERE id = $1', [
      job.id,
    ])) as {
      text: string;
      args: Record<string, any>;
    }[];
    for (const form of [
      SECRET,
      Buffer.from(SECRET).toString('base64'),
      Buffer.from(SECRET).toString('hex'),
      'u-1',
    ]) {
      expect(raw!.text).not.toContain(form);
    }
    expect(raw!.text).toContain('acme'); // meta stays plaintext
    const envelope = raw!.args.$koban_encrypted;
    expect(Object.keys(raw!.args)).toEqual(['$koban_encrypted']);
    expect(envelope).toMatchObject({ v: 2, alg: 'aes-256-gcm', kid: expect.stringMatching(/^[\w-]{8}$/) });
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);

    const done = await runInserted(job.id);
    expect(done.state).toBe('completed');
    expect(seen).toContainEqual({ userId: 'u-1', secret: SECRET });
  });

  it('encrypts each insert afresh: equal args give different ciphertexts', async () => {
    const a = await insertAudit({ userId: 'same', secret: SECRET });
    const b = await insertAudit({ userId: 'same', secret: SECRET });
    expect((await rawJob(url, a.id)).args).not.toEqual((await rawJob(url, b.id)).args);
  });

  it('detects tampering: a flipped byte cancels the job with an authentication error, process never runs', async () => {
    const job = await insertAudit({ userId: 'tamper', secret: SECRET });
    const { args } = (await rawJob(url, job.id)) as { args: Record<string, any> };
    const data = Buffer.from(args.$koban_encrypted.data, 'base64');
    data[3]! ^= 0x01;
    args.$koban_encrypted.data = data.toString('base64');
    await exec(url, 'UPDATE koban.jobs SET args = $2::text::jsonb WHERE id = $1', [
      job.id,
      JSON.stringify(args),
    ]);
    const done = await runInserted(job.id);
    expect(done.state).toBe('cancelled');
    expect(done.attempt).toBe(1);
    expect(done.errors[0]!.error).toMatch(/KobanEncryptionError: .*failed authentication.*altered/);
    expect(seen.some((args) => args.userId === 'tamper')).toBe(false);
  });

  it('refuses an envelope whose algorithm was switched to CTR, and one copied to another worker', async () => {
    const downgraded = await insertAudit({ userId: 'downgrade', secret: SECRET });
    await exec(
      url,
      `UPDATE koban.jobs SET args = jsonb_set(args, '{$koban_encrypted,alg}', '"aes-256-ctr"') WHERE id = $1`,
      [downgraded.id],
    );
    const copied = await insertAudit({ userId: 'copied', secret: SECRET });
    await exec(url, `UPDATE koban.jobs SET worker = 'OtherAuditWorker' WHERE id = $1`, [copied.id]);
    const koban = await start();
    const [a, b] = await Promise.all([settled(koban, downgraded.id), settled(koban, copied.id)]);
    expect(a.state).toBe('cancelled');
    expect(a.errors[0]!.error).toMatch(/encrypted with aes-256-ctr, but AuditWorker uses aes-256-gcm/);
    expect(b.state).toBe('cancelled');
    expect(b.errors[0]!.error).toMatch(/failed authentication/);
  });

  it('refuses args stored in clear for an encrypted worker', async () => {
    const [row] = (await exec(
      url,
      `INSERT INTO koban.jobs (worker, queue, args) VALUES ('AuditWorker', 'secure', '{"userId":"clear","secret":"x"}') RETURNING id::text`,
    )) as { id: string }[];
    const done = await runInserted(row!.id);
    expect(done.state).toBe('cancelled');
    expect(done.errors[0]!.error).toMatch(/stored in clear, but AuditWorker is @Encrypted/);
  });
});

describe('@Encrypted keys', () => {
  it('rotation: jobs under the previous key still run; new jobs use the current key', async () => {
    const oldKey = keyring.current;
    const old = await insertAudit({ userId: 'before-rotation', secret: SECRET });
    const oldKid = ((await rawJob(url, old.id)).args as any).$koban_encrypted.kid;
    keyring.previous = oldKey;
    keyring.current = key();
    try {
      const fresh = await insertAudit({ userId: 'after-rotation', secret: SECRET });
      const newKid = ((await rawJob(url, fresh.id)).args as any).$koban_encrypted.kid;
      expect(newKid).not.toBe(oldKid);
      const koban = await start();
      expect((await settled(koban, old.id)).state).toBe('completed');
      expect((await settled(koban, fresh.id)).state).toBe('completed');
      expect(seen).toContainEqual({ userId: 'before-rotation', secret: SECRET });
    } finally {
      keyring.previous = key();
    }
  });

  it('wrong key: a job written under a key the node does not have is given back, naming the key id', async () => {
    const job = await insertAudit({ userId: 'lost-key', secret: SECRET });
    const kid = ((await rawJob(url, job.id)).args as any).$koban_encrypted.kid;
    const saved = { ...keyring };
    keyring.current = key();
    keyring.previous = key();
    try {
      const done = await runInserted(job.id);
      expect(done.state).toBe('scheduled');
      expect(done.attempt).toBe(0);
      expect(done.errors[0]!.error).toContain(
        `KobanUnknownKeyError: the args of job ${job.id} (AuditWorker) was encrypted with key ${kid}, which is not among AuditWorker's keys`,
      );
    } finally {
      Object.assign(keyring, saved);
    }
  });

  it('accepts a literal base64 key and a Buffer key (CTR, for parity with Oban Pro)', async () => {
    const koban = await start();
    const literal = await koban.insert(newJob(LiteralKeyWorker, { userId: 'literal', secret: SECRET }));
    const ctr = await koban.insert(newJob(CtrWorker, { userId: 'ctr', secret: SECRET }));
    const envelope = ((await rawJob(url, ctr.id)).args as any).$koban_encrypted;
    expect(envelope.alg).toBe('aes-256-ctr');
    expect(envelope.tag).toBeUndefined();
    expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(16);
    expect((await settled(koban, literal.id)).state).toBe('completed');
    expect((await settled(koban, ctr.id)).state).toBe('completed');
    expect(seen).toContainEqual({ userId: 'ctr', secret: SECRET });
  });

  it('fails at start, naming worker and key, when a key is unusable', async () => {
    const cases = [
      [ShortKeyWorker, /ShortKeyWorker @Encrypted key: expected a 32-byte key for AES-256, got 16 bytes/],
      [
        UnsetKeyWorker,
        /UnsetKeyWorker @Encrypted key: .*got undefined \(is the environment variable set\?\)/,
      ],
      [NotBase64Worker, /NotBase64Worker @Encrypted key: expected base64 text/],
      [ThrowingKeyWorker, /ThrowingKeyWorker @Encrypted key: the key function threw: vault unreachable/],
      [BothKeysWorker, /BothKeysWorker @Encrypted: give exactly one of key .* or keys/],
    ] as const;
    for (const [worker, message] of cases) {
      const starting = startKoban({ database: url, queues: {}, workers: [worker] });
      await expect(starting).rejects.toThrow(KobanConfigError);
      await expect(starting).rejects.toThrow(message);
    }
  });
});

describe('@Encrypted with the testing helpers', () => {
  it('performJob seals and opens the args as the database would', async () => {
    const outcome = await performJob(AuditWorker, { userId: 'perform', secret: SECRET });
    expect(outcome.kind).toBe('completed');
    expect(seen).toContainEqual({ userId: 'perform', secret: SECRET });
  });

  it('allEnqueued and assertEnqueued show decrypted args; drainJobs runs encrypted jobs', async () => {
    const koban = await start({});
    await koban.insert(newJob(AuditWorker, { userId: 'drain', secret: SECRET }));
    const [job] = await allEnqueued(koban, { worker: AuditWorker, args: { userId: 'drain' } });
    expect(job?.args).toEqual({ userId: 'drain', secret: SECRET });
    await assertEnqueued(koban, { worker: AuditWorker, args: { secret: SECRET, userId: 'drain' } });
    const counts = await drainJobs(koban, { queue: 'secure' });
    expect(counts.completed).toBeGreaterThanOrEqual(1);
    expect(seen).toContainEqual({ userId: 'drain', secret: SECRET });
  });
});
