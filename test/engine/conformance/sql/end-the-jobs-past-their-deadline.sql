INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at, deadline_at, deadline_action)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()), t.deadline_at::timestamptz, t.deadline_action FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::int AS max_attempts, $6::smallint AS priority, $7::text AS deadline_at, u.* FROM unnest($8::text::text[], $9::text::text[], $10::text::text[]) AS u(args, scheduled_at, deadline_action)) t
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

WITH expired AS MATERIALIZED (
          SELECT id, state, attempt FROM koban.jobs
          WHERE deadline_at <= now() AND state IN ('available', 'scheduled', 'retryable', 'held')
          ORDER BY deadline_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED
        )
        UPDATE koban.jobs j SET
          state = CASE WHEN j.deadline_action = 'discard' THEN 'discarded' ELSE 'cancelled' END,
          cancelled_at = CASE WHEN j.deadline_action = 'discard' THEN j.cancelled_at ELSE now() END,
          discarded_at = CASE WHEN j.deadline_action = 'discard' THEN now() ELSE j.discarded_at END,
          errors = array_append(j.errors, jsonb_build_object(
            'attempt', j.attempt, 'at', now(),
            'error', 'deadline: not started by ' || (to_json(j.deadline_at) #>> '{}') || ', so ' ||
              CASE WHEN j.deadline_action = 'discard' THEN 'discarded' ELSE 'cancelled' END))
        FROM expired WHERE j.id = expired.id
        RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, expired.state AS previous, j.attempt, expired.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback";

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;
