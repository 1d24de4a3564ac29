INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

INSERT INTO koban.queues AS q (name, paused, "limit", flow, run)
    VALUES ($1, $2, $3, $4::jsonb, $5)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($6::boolean, q.paused),
      "limit" = coalesce($7::int, q."limit"),
      flow = CASE WHEN $8::jsonb IS NULL THEN q.flow ELSE coalesce(q.flow, '{}') || $9::jsonb END,
      run = coalesce($10::text, q.run),
      updated_at = now()
    RETURNING name, paused, "limit", flow, run;

SELECT name, paused, "limit", flow, run FROM koban.queues;

SELECT pg_notify($1, payload) FROM unnest($2::text::text[]) AS payload;

SELECT pg_notify($1, payload) FROM unnest($2::text::text[]) AS payload;

INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[], $7::text::smallint[], $8::text::text[]) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::int AS max_attempts, $6::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($7::text::text[]) AS u(args)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH claimable AS MATERIALIZED (
      SELECT id FROM koban.jobs j
      WHERE id = ANY($1::text::bigint[]) AND state = 'available' AND (j.deadline_at IS NULL OR j.deadline_at > now())
      FOR UPDATE SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $2::text)
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

SELECT id::text AS id FROM koban.jobs WHERE id = ANY($1::text::bigint[]) AND state = 'executing';
