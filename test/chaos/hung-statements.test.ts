import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// A periodic task's statement the server sleeps on (a trigger, a lock never released) used to
// stop that task for good: a stager whose UPDATE hung left every scheduled job waiting. Each
// statement with no deadline of its own now has `statementDeadline`: cancelled in the server
// past it, and the task goes on at its next run.

class LaterWorker {
  async process(_job: Job) {}
}
defineWorker(LaterWorker, { queue: 'later' });

/**
 * Makes the first update of a job from `from` to `to` sleep in the server for far longer than a
 * test lasts; `<name>s`, a sequence (not rolled back by a cancel), counts the updates tried.
 */
const hangFirstUpdate = (url: string, name: string, from: string, to: string) =>
  withSql(url, (sql) =>
    sql.unsafe(`
      CREATE SCHEMA IF NOT EXISTS koban_test;
      CREATE SEQUENCE koban_test.${name}s;
      CREATE FUNCTION koban_test.${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.state = '${from}' AND NEW.state = '${to}' AND nextval('koban_test.${name}s') = 1
          THEN PERFORM pg_sleep(600); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER ${name} BEFORE UPDATE ON koban.jobs FOR EACH ROW EXECUTE FUNCTION koban_test.${name}();`),
  );

describe('a statement of a periodic task that gets no answer', () => {
  it('is cancelled in the server past statementDeadline, and the stager stages the job at its next run', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({
      database: url,
      queues: { later: 1 },
      workers: [LaterWorker],
      stageInterval: 100,
      statementDeadline: 1000,
    });
    // The stager's first UPDATE of a scheduled job sleeps in the server.
    await hangFirstUpdate(url, 'hung_staging', 'scheduled', 'available');
    const job = await koban.insert(newJob(LaterWorker, {}, { scheduleIn: 0.2 }));

    const done = await waitFor(
      'the scheduled job to run',
      async () => {
        const stored = await koban.getJob(job.id);
        return stored?.state === 'completed' ? stored : undefined;
      },
      10_000,
    );
    expect(done).toMatchObject({ attempt: 1, errors: [] });
    const [state] = await withSql(
      url,
      (sql) => sql<{ slept: number; sleeping: number }[]>`
        SELECT (SELECT last_value::int FROM koban_test.hung_stagings) AS slept,
               (SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE '%UPDATE%' AND wait_event = 'PgSleep') AS sleeping`,
    );
    // The stager's statement slept once, and no backend sleeps on it any more: it was cancelled.
    expect(state).toEqual({ slept: 2, sleeping: 0 });
  });

  it("holds the leader's rescue to statementDeadline in the server: the next rescue frees the orphan", async () => {
    const url = await freshDatabase();
    const koban = await startKoban({
      database: url,
      queues: {},
      workers: [LaterWorker],
      heartbeatInterval: 200,
      rescueAfter: 600,
      blockTolerance: 0,
      statementDeadline: 1000,
    });
    // The first rescue of a job sleeps in the server, inside the rescue's transaction.
    await hangFirstUpdate(url, 'hung_rescue', 'executing', 'available');
    const [orphan] = await withSql(
      url,
      (sql) => sql<{ id: string }[]>`
        INSERT INTO koban.jobs (worker, queue, args, state, attempt, attempted_at, attempted_by)
        VALUES ('LaterWorker', 'later', '{}', 'executing', 1, now() - interval '1 minute', ARRAY['dead-node'])
        RETURNING id::text`,
    );
    await waitFor('the rescue', async () => (await koban.getJob(orphan!.id))?.state === 'available', 10_000);
    const [slept] = await withSql(
      url,
      (sql) => sql<{ rescues: number }[]>`SELECT last_value::int AS rescues FROM koban_test.hung_rescues`,
    );
    expect(slept!.rescues).toBe(2);
  });

  it('refuses a statementDeadline that is not a positive number', async () => {
    await expect(startKoban({ database: await freshDatabase(), statementDeadline: 0 })).rejects.toThrow(
      /statementDeadline: expected a positive number, got 0/,
    );
  });
});
