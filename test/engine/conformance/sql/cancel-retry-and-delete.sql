INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[], $7::text::smallint[], $8::text::text[]) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH target AS MATERIALIZED (
          SELECT id, state, attempt FROM koban.jobs
          WHERE id = ANY($1::text::bigint[]) AND state NOT IN ('completed', 'discarded', 'cancelled')
          ORDER BY id
          FOR UPDATE
        )
        UPDATE koban.jobs j SET state = 'cancelled', cancelled_at = now()
        FROM target WHERE j.id = target.id
        RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, target.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback";

WITH target AS MATERIALIZED (
          SELECT id, state, attempt FROM koban.jobs
          WHERE id = ANY($1::text::bigint[]) AND state NOT IN ('completed', 'discarded', 'cancelled')
          ORDER BY id
          FOR UPDATE
        )
        UPDATE koban.jobs j SET state = 'cancelled', cancelled_at = now()
        FROM target WHERE j.id = target.id
        RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, target.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback";

WITH target AS MATERIALIZED (
            SELECT t.id, t.state, (
              SELECT count(*) FROM koban.workflow_deps e JOIN koban.jobs d ON d.id = e.dep_id
              WHERE e.job_id = t.id AND d.state NOT IN ('completed', 'discarded', 'cancelled')
            )::int AS pending
            FROM koban.jobs t
            WHERE true AND worker = $1
              AND t.state IN ('completed', 'discarded', 'cancelled', 'retryable', 'scheduled')
              AND (t.unique_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM koban.jobs holder WHERE holder.unique_active = t.unique_key AND holder.id <> t.id))
            ORDER BY t.id
            FOR UPDATE OF t
          ), retried AS (
            UPDATE koban.jobs j SET
              state = CASE WHEN target.pending > 0 THEN 'held' ELSE 'available' END,
              deps_remaining = CASE WHEN target.pending > 0 THEN target.pending ELSE j.deps_remaining END,
              scheduled_at = now(), max_attempts = greatest(j.max_attempts, j.attempt + 1),
              completed_at = NULL, cancelled_at = NULL, discarded_at = NULL
            FROM target WHERE j.id = target.id
            RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, j.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback"
          ), woken AS (
    SELECT count(pg_notify('koban_insert', queue)) AS woken
    FROM (SELECT DISTINCT queue FROM retried WHERE state = 'available') q
  )
          SELECT * FROM retried, woken;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback" FROM koban.jobs j WHERE j.id = $1::bigint;

WITH deleted AS (
            DELETE FROM koban.jobs j WHERE true AND worker = $1
            RETURNING j.id::text AS id, j.worker, j.queue, 'deleted' AS state, j.state AS previous, j.attempt, j.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback"
          ), edges AS (
            DELETE FROM koban.workflow_deps e USING deleted
            WHERE deleted."workflowId" IS NOT NULL AND e.job_id = deleted.id::bigint
          )
          SELECT * FROM deleted;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback" FROM koban.jobs j WHERE j.id = $1::bigint;
