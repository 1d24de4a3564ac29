INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($6::text::text[], $7::text::int[]) AS u(args, max_attempts)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH claimable AS MATERIALIZED (
      SELECT id FROM koban.jobs j
      WHERE state = 'available' AND queue = $1 AND (j.deadline_at IS NULL OR j.deadline_at > now())
      ORDER BY priority, scheduled_at, id
      LIMIT $2
      FOR UPDATE SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $3::text)
      WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
      RETURNING j.id, j.queue, j.worker, j.args, CASE WHEN j.meta = '{}' THEN NULL ELSE j.meta END AS meta,
        CASE WHEN cardinality(j.tags) = 0 THEN NULL ELSE to_json(j.tags) END AS tags,
        CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS errors,
        j.attempt, j.max_attempts, j.priority, j.inserted_at, j.scheduled_at, j.attempted_at,
        CASE WHEN cardinality(j.attempted_by) = 1 THEN NULL ELSE to_json(j.attempted_by) END AS attempted_by, j.workflow_id, j.workflow_step, j.batch_id,
        j.batch_callback, j.unique_states,
        CASE WHEN j.workflow_id IS NULL THEN NULL
          ELSE (SELECT w.name FROM koban.workflows w WHERE w.id = j.workflow_id) END AS workflow_name,
        CASE WHEN j.batch_id IS NULL THEN NULL
          ELSE (SELECT b.name FROM koban.batches b WHERE b.id = j.batch_id) END AS batch_name
    )
    SELECT id::text AS id, queue, worker, args, meta, tags, errors, attempt, max_attempts AS "maxAttempts",
      priority, date_part('epoch', inserted_at) * 1000 AS "insertedAt", CASE WHEN scheduled_at = inserted_at THEN NULL ELSE date_part('epoch', scheduled_at) * 1000 END AS "scheduledAt",
      date_part('epoch', attempted_at) * 1000 AS "attemptedAt", attempted_by AS "attemptedBy",
      workflow_id AS "workflowId", workflow_step AS "workflowStep", batch_id AS "batchId",
      batch_callback AS "batchCallback", workflow_name AS "workflowName", batch_name AS "batchName",
      unique_states AS "uniqueStates"
    FROM claimed c ORDER BY c.priority, c.scheduled_at, c.id;

SELECT set_config('statement_timeout', $1, true),
    set_config('idle_in_transaction_session_timeout', $2, true);

WITH orphaned AS MATERIALIZED (
          SELECT j.id FROM koban.jobs j
          WHERE j.state = 'executing'  AND NOT EXISTS (
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

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE true AND queue = $1 ORDER BY j.id;
