INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS queue, $2::text AS meta, $3::text AS tags, $4::int AS max_attempts, $5::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($6::text::text[], $7::text::text[]) AS u(worker, args)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH target AS MATERIALIZED (
          SELECT id, state, attempt FROM koban.jobs
          WHERE id = ANY($1::text::bigint[]) AND state NOT IN ('completed', 'discarded', 'cancelled')
          ORDER BY id
          FOR UPDATE
        )
        UPDATE koban.jobs j SET state = 'cancelled', cancelled_at = now(), errors = j.errors
        FROM target WHERE j.id = target.id
        RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, target.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback";

WITH target AS MATERIALIZED (
          SELECT id, state, attempt FROM koban.jobs
          WHERE id = ANY($1::text::bigint[]) AND state NOT IN ('completed', 'discarded', 'cancelled')
          ORDER BY id
          FOR UPDATE
        )
        UPDATE koban.jobs j SET state = 'cancelled', cancelled_at = now(), errors = j.errors
        FROM target WHERE j.id = target.id
        RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, target.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback";

WITH back AS (
            DELETE FROM koban.job_history h
            WHERE true AND worker = $1
              AND (h.unique_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM koban.jobs holder WHERE holder.unique_active = h.unique_key))
            RETURNING h.*
          )
          INSERT INTO koban.jobs (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by, unique_key, unique_states, recorded, workflow_id, workflow_step, deps_remaining, batch_id, batch_callback, progress)
          SELECT id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by, unique_key, unique_states, recorded, workflow_id, workflow_step, deps_remaining, batch_id, batch_callback, progress FROM back;

WITH selected AS MATERIALIZED (
            SELECT t.id, t.state FROM koban.jobs t
            WHERE true AND worker = $1
              AND t.state IN ('completed', 'discarded', 'cancelled', 'retryable', 'scheduled')
              AND (t.unique_key IS NULL OR NOT EXISTS (
                SELECT 1 FROM koban.jobs holder WHERE holder.unique_active = t.unique_key AND holder.id <> t.id))
            ORDER BY t.id
            FOR UPDATE OF t
          ), target AS MATERIALIZED (
            -- Deps still unfinished count now; deps this call takes out of a final state are
            -- counted by the workflow extension when it hears of their reopening (waitAgain),
            -- as for any step already waiting: the step waits either way.
            SELECT t.id, t.state, count(d.id) FILTER (WHERE d.state NOT IN ('completed', 'discarded', 'cancelled'))::int AS pending,
              count(r.id)::int AS reopened
            FROM selected t
            LEFT JOIN koban.workflow_deps e ON e.job_id = t.id
            LEFT JOIN koban.jobs d ON d.id = e.dep_id
            LEFT JOIN selected r ON r.id = e.dep_id AND r.state IN ('completed', 'discarded', 'cancelled')
            GROUP BY t.id, t.state
          ), retried AS (
            UPDATE koban.jobs j SET
              state = CASE WHEN target.pending + target.reopened > 0 THEN 'held' ELSE 'available' END,
              deps_remaining = CASE WHEN target.pending + target.reopened > 0 THEN target.pending ELSE j.deps_remaining END,
              scheduled_at = now(), max_attempts = greatest(j.max_attempts, j.attempt + 1),
              completed_at = NULL, cancelled_at = NULL, discarded_at = NULL,
              deadline_at = CASE WHEN j.deadline_at <= now() THEN NULL ELSE j.deadline_at END
            FROM target WHERE j.id = target.id
            RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, j.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback"
          ), woken AS (
    SELECT count(pg_notify('koban_insert', queue)) AS woken
    FROM (SELECT DISTINCT queue FROM retried WHERE state = 'available') q
  )
          SELECT * FROM retried, woken;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

WITH unfinished AS (
            DELETE FROM koban.jobs j WHERE true AND worker = $1
            RETURNING j.id::text AS id, j.worker, j.queue, 'deleted' AS state, j.state AS previous, j.attempt, j.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback"
          ), finished AS (
            DELETE FROM koban.job_history j WHERE true AND worker = $2
            RETURNING j.id::text AS id, j.worker, j.queue, 'deleted' AS state, j.state AS previous, j.attempt, j.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback"
          ), deleted AS (
            SELECT * FROM unfinished UNION ALL SELECT * FROM finished
          ), edges AS (
            DELETE FROM koban.workflow_deps e USING deleted
            WHERE deleted."workflowId" IS NOT NULL AND e.job_id = deleted.id::bigint
          )
          SELECT * FROM deleted;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;
