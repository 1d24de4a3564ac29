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

UPDATE koban.jobs j SET state = 'completed', completed_at = now()
    WHERE id = ANY($1::text::bigint[]) AND attempt = $2 AND state = 'executing';

WITH old AS MATERIALIZED (
      SELECT id FROM koban.jobs
      WHERE state IN ('completed', 'discarded', 'cancelled') AND coalesce(completed_at, cancelled_at, discarded_at) < now() - $1 * interval '1 second'
      LIMIT $2
      FOR UPDATE SKIP LOCKED
    ), pruned AS (
      DELETE FROM koban.jobs WHERE id = ANY(ARRAY(SELECT id FROM old)) RETURNING id, workflow_id
    ), edges AS (
      DELETE FROM koban.workflow_deps e USING pruned WHERE pruned.workflow_id IS NOT NULL AND e.job_id = pruned.id
    )
    SELECT count(*)::int AS pruned FROM pruned;

DELETE FROM koban.workflows w WHERE w.inserted_at < now() - $1 * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM koban.jobs j WHERE j.workflow_id = w.id);

DELETE FROM koban.batches b WHERE b.inserted_at < now() - $1 * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM koban.jobs j WHERE j.batch_id = b.id);

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback" FROM koban.jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback" FROM koban.jobs j WHERE j.id = $1::bigint;
