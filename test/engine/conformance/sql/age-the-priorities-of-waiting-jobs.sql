INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::int AS max_attempts, NULL::text AS scheduled_at, u.* FROM unnest($6::text::text[], $7::text::smallint[]) AS u(args, priority)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH waiting AS MATERIALIZED (
      SELECT id FROM koban.jobs
      WHERE state = 'available' AND priority > $1
        AND scheduled_at < now() - $2 * interval '1 second'
        AND queue = ANY($3::text::text[])
      ORDER BY scheduled_at, id
      LIMIT $4
      FOR UPDATE SKIP LOCKED
    ), raised AS (
      UPDATE koban.jobs j SET priority = j.priority - 1
      FROM waiting w WHERE j.id = w.id AND j.state = 'available' AND j.priority > $5
      RETURNING 1
    )
    SELECT count(*)::int AS raised FROM raised;

WITH waiting AS MATERIALIZED (
      SELECT id FROM koban.jobs
      WHERE state = 'available' AND priority > $1
        AND scheduled_at < now() - $2 * interval '1 second'
        AND true
      ORDER BY scheduled_at, id
      LIMIT $3
      FOR UPDATE SKIP LOCKED
    ), raised AS (
      UPDATE koban.jobs j SET priority = j.priority - 1
      FROM waiting w WHERE j.id = w.id AND j.state = 'available' AND j.priority > $4
      RETURNING 1
    )
    SELECT count(*)::int AS raised FROM raised;

WITH waiting AS MATERIALIZED (
      SELECT id FROM koban.jobs
      WHERE state = 'available' AND priority > $1
        AND scheduled_at < now() - $2 * interval '1 second'
        AND queue = ANY($3::text::text[])
      ORDER BY scheduled_at, id
      LIMIT $4
      FOR UPDATE SKIP LOCKED
    ), raised AS (
      UPDATE koban.jobs j SET priority = j.priority - 1
      FROM waiting w WHERE j.id = w.id AND j.state = 'available' AND j.priority > $5
      RETURNING 1
    )
    SELECT count(*)::int AS raised FROM raised;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;
