import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// A heartbeat the server sleeps on (a lock on the node's row, a trigger, a pooler with no
// connection to spare) used to stop the node's heartbeats for good: the leader took the live
// node for dead and ran its jobs again. A beat with no answer in time is abandoned and cancelled.

const runs: string[] = [];
class LongWorker {
  async process(job: Job) {
    runs.push(job.attemptedBy.at(-1) ?? '?');
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}
defineWorker(LongWorker, { queue: 'long' });

const timers = { heartbeatInterval: 200, blockTolerance: 1000, rescueAfter: 1600 };

describe('a heartbeat that gets no answer', () => {
  it('is abandoned and the next one goes out: the leader keeps the node for alive, its job runs once', async () => {
    const url = await freshDatabase();
    const leader = await startKoban({ database: url, node: 'leader', queues: {}, ...timers });
    await waitFor('leadership', () => leader.isLeader);
    const sleepy = await startKoban({
      database: url,
      node: 'sleepy',
      queues: { long: 1 },
      workers: [LongWorker],
      ...timers,
    });
    const job = await sleepy.insert(newJob(LongWorker, {}));
    await waitFor('the job to start', () => runs.length === 1);
    // The node's next heartbeat sleeps in the server for far longer than the test lasts.
    await withSql(url, (sql) =>
      sql.unsafe(`
        CREATE SEQUENCE koban_test_hung_beats;
        CREATE FUNCTION koban_test_hung_beat() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.name = 'sleepy' AND nextval('koban_test_hung_beats') = 1 THEN PERFORM pg_sleep(600); END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER koban_test_hung_beat BEFORE UPDATE ON koban.nodes
          FOR EACH ROW EXECUTE FUNCTION koban_test_hung_beat();`),
    );
    const done = await waitFor('the job to complete', async () => {
      const stored = await sleepy.getJob(job.id);
      return stored?.state === 'completed' ? stored : undefined;
    });
    expect(done).toMatchObject({ attempt: 1, attemptedBy: ['sleepy'], errors: [] });
    expect(runs).toEqual(['sleepy']);
    const [sequence] = await withSql(
      url,
      (sql) => sql<{ beats: number }[]>`SELECT last_value::int AS beats FROM koban_test_hung_beats`,
    );
    // The node beat again after the one that slept.
    expect(sequence!.beats).toBeGreaterThan(1);
  });
});
