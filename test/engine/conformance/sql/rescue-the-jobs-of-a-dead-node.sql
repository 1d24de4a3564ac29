INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[], $7::text::smallint[], $8::text::text[]) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH claimable AS MATERIALIZED (
      SELECT id FROM koban.jobs
      WHERE state = 'available' AND queue = $1
      ORDER BY priority, scheduled_at, id
      LIMIT $2
      FOR UPDATE SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $3::text)
      WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
      RETURNING j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.scheduled_at AS due,
        CASE WHEN j.workflow_id IS NULL THEN NULL
          ELSE (SELECT w.name FROM koban.workflows w WHERE w.id = j.workflow_id) END AS "workflowName",
        CASE WHEN j.batch_id IS NULL THEN NULL
          ELSE (SELECT b.name FROM koban.batches b WHERE b.id = j.batch_id) END AS "batchName"
    )
    SELECT claimed."id" AS "id", claimed."state" AS "state", claimed."queue" AS "queue", claimed."worker" AS "worker", claimed."args" AS "args", claimed."meta" AS "meta", claimed."tags" AS "tags", claimed."errors" AS "errors", claimed."attempt" AS "attempt", claimed."maxAttempts" AS "maxAttempts", claimed."priority" AS "priority", claimed."insertedAt" AS "insertedAt", claimed."scheduledAt" AS "scheduledAt", claimed."attemptedAt" AS "attemptedAt", claimed."completedAt" AS "completedAt", claimed."cancelledAt" AS "cancelledAt", claimed."discardedAt" AS "discardedAt", claimed."attemptedBy" AS "attemptedBy", claimed."workflowId" AS "workflowId", claimed."workflowStep" AS "workflowStep", claimed."batchId" AS "batchId", claimed."batchCallback" AS "batchCallback", "workflowName", "batchName" FROM claimed ORDER BY priority, due, id::bigint;

WITH orphaned AS MATERIALIZED (
          SELECT j.id FROM koban.jobs j
          WHERE j.state = 'executing' AND NOT EXISTS (
            SELECT 1 FROM koban.nodes n
            WHERE n.name = j.attempted_by[cardinality(j.attempted_by)]
              AND n.heartbeat_at > now() - $1 * interval '1 millisecond'
              AND n.started_at <= j.attempted_at
          )
          ORDER BY j.id
          FOR UPDATE OF j SKIP LOCKED
        ), rescued AS (
          UPDATE koban.jobs j SET
            state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END,
            discarded_at = CASE WHEN j.attempt >= j.max_attempts THEN now() ELSE j.discarded_at END,
            scheduled_at = CASE WHEN j.attempt >= j.max_attempts THEN j.scheduled_at ELSE now() END,
            errors = array_append(j.errors, jsonb_build_object(
              'attempt', j.attempt, 'at', now(),
              'error', 'rescued: node ' || coalesce(j.attempted_by[cardinality(j.attempted_by)], '?') || ' stopped heartbeating or restarted'))
          WHERE j.id = ANY(ARRAY(SELECT id FROM orphaned))
          RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, 'executing' AS previous, j.attempt, j.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback"
        ), woken AS (
    SELECT count(pg_notify('koban_insert', queue)) AS woken
    FROM (SELECT DISTINCT queue FROM rescued WHERE state = 'available') q
  )
        SELECT * FROM rescued, woken;

DELETE FROM koban.nodes WHERE heartbeat_at < now() - $1 * interval '1 millisecond';

SELECT jobs.id::text AS "id", jobs.state AS "state", jobs.queue AS "queue", jobs.worker AS "worker", jobs.args AS "args", jobs.meta AS "meta", to_json(jobs.tags) AS "tags", CASE WHEN cardinality(jobs.errors) = 0 THEN NULL ELSE to_json(jobs.errors) END AS "errors", jobs.attempt AS "attempt", jobs.max_attempts AS "maxAttempts", jobs.priority AS "priority", date_part('epoch', jobs.inserted_at) * 1000 AS "insertedAt", date_part('epoch', jobs.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', jobs.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', jobs.completed_at) * 1000 AS "completedAt", date_part('epoch', jobs.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', jobs.discarded_at) * 1000 AS "discardedAt", to_json(jobs.attempted_by) AS "attemptedBy", jobs.workflow_id AS "workflowId", jobs.workflow_step AS "workflowStep", jobs.batch_id AS "batchId", jobs.batch_callback AS "batchCallback" FROM koban.jobs WHERE true AND queue = $1 ORDER BY id;
