INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::int AS max_attempts, NULL::text AS scheduled_at, u.* FROM unnest($6::text::text[], $7::text::smallint[]) AS u(args, priority)) t
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

WITH gone AS (DELETE FROM koban.jobs j WHERE id = ANY($1::text::bigint[]) AND attempt = $2 AND state = 'executing' RETURNING j.*) 
    INSERT INTO koban.job_history AS j (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by, unique_key, unique_states, recorded, workflow_id, workflow_step, deps_remaining, batch_id, batch_callback, progress, finished_at)
    SELECT d.id, 'completed', d.queue, d.worker, d.args, d.meta, d.tags, d.errors, d.attempt, d.max_attempts, d.priority, d.inserted_at, d.scheduled_at, d.attempted_at, now(), d.cancelled_at, d.discarded_at, d.attempted_by, d.unique_key, d.unique_states, d.recorded, d.workflow_id, d.workflow_step, d.deps_remaining, d.batch_id, d.batch_callback, d.progress, now() FROM gone d;

WITH gone AS (
      DELETE FROM koban.jobs j
      USING unnest($1::text::bigint[], $2::text::int[], $3::text::text[]) AS a(id, attempt, recorded)
      WHERE j.id = ANY($4::text::bigint[]) AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing'
      RETURNING j.*, a.recorded AS recorded_value) 
    INSERT INTO koban.job_history AS j (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by, unique_key, unique_states, recorded, workflow_id, workflow_step, deps_remaining, batch_id, batch_callback, progress, finished_at)
    SELECT d.id, 'completed', d.queue, d.worker, d.args, d.meta, d.tags, d.errors, d.attempt, d.max_attempts, d.priority, d.inserted_at, d.scheduled_at, d.attempted_at, now(), d.cancelled_at, d.discarded_at, d.attempted_by, d.unique_key, d.unique_states, decode(d.recorded_value, 'base64'), d.workflow_id, d.workflow_step, d.deps_remaining, d.batch_id, d.batch_callback, d.progress, now() FROM gone d;

UPDATE koban.jobs j SET
      state = a.state,
      attempt = j.attempt - a.refund,
      scheduled_at = CASE WHEN a.delay_ms IS NULL THEN j.scheduled_at ELSE now() + a.delay_ms * interval '1 millisecond' END,
      completed_at = CASE WHEN a.state = 'completed' THEN now() ELSE j.completed_at END,
      discarded_at = CASE WHEN a.state = 'discarded' THEN now() ELSE j.discarded_at END,
      cancelled_at = CASE WHEN a.state = 'cancelled' THEN now() ELSE j.cancelled_at END,
      errors = CASE WHEN a.error IS NULL THEN j.errors ELSE array_append(j.errors, a.error::jsonb) END,
      recorded = coalesce(decode(a.recorded, 'base64'), j.recorded)
    FROM unnest(
      $1::text::bigint[], $2::text::int[], $3::text::text[],
      $4::text::bigint[], $5::text::text[],
      $6::text::int[], $7::text::text[]
    ) AS a(id, attempt, state, delay_ms, error, refund, recorded)
    WHERE j.id = ANY($8::text::bigint[])
      AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing';

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS id, j.worker, j.state, encode(j.recorded, 'base64') AS recorded FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS id, j.worker, j.state, encode(j.recorded, 'base64') AS recorded FROM koban.all_jobs j WHERE j.id = $1::bigint;

UPDATE koban.jobs j SET
      state = a.state,
      attempt = j.attempt - a.refund,
      scheduled_at = CASE WHEN a.delay_ms IS NULL THEN j.scheduled_at ELSE now() + a.delay_ms * interval '1 millisecond' END,
      completed_at = CASE WHEN a.state = 'completed' THEN now() ELSE j.completed_at END,
      discarded_at = CASE WHEN a.state = 'discarded' THEN now() ELSE j.discarded_at END,
      cancelled_at = CASE WHEN a.state = 'cancelled' THEN now() ELSE j.cancelled_at END,
      errors = CASE WHEN a.error IS NULL THEN j.errors ELSE array_append(j.errors, a.error::jsonb) END,
      recorded = coalesce(decode(a.recorded, 'base64'), j.recorded)
    FROM unnest(
      $1::text::bigint[], $2::text::int[], $3::text::text[],
      $4::text::bigint[], $5::text::text[],
      $6::text::int[], $7::text::text[]
    ) AS a(id, attempt, state, delay_ms, error, refund, recorded)
    WHERE j.id = ANY($8::text::bigint[])
      AND j.id = a.id AND j.attempt = a.attempt AND j.state = 'executing';

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;
