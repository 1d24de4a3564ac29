INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::int AS max_attempts, $6::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($7::text::text[]) AS u(args)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

SELECT pg_advisory_xact_lock($1, hashtext($2)), set_config('enable_bitmapscan', 'off', true);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT '' AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, '' AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $2 AND (j.deadline_at IS NULL OR j.deadline_at > now())  AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $3 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT least($4::int, greatest(0, $5::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) FOR UPDATE OF j SKIP LOCKED), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM ranked r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $6)
      SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $7), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $8::text)
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

SELECT EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'available' AND queue = $1) AS held,
        NULL::float8 AS "retryInMs";

SELECT pg_advisory_xact_lock($1, hashtext($2)), set_config('enable_bitmapscan', 'off', true);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT '' AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, '' AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $2 AND (j.deadline_at IS NULL OR j.deadline_at > now())  AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $3 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT least($4::int, greatest(0, $5::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) FOR UPDATE OF j SKIP LOCKED), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM ranked r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $6)
      SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $7), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $8::text)
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

SELECT EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'available' AND queue = $1) AS held,
        NULL::float8 AS "retryInMs";

SELECT pg_advisory_xact_lock($1, hashtext($2)), set_config('enable_bitmapscan', 'off', true);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT '' AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 AND j.id NOT IN (SELECT unnest($2::text::bigint[]))), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, '' AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $3 AND (j.deadline_at IS NULL OR j.deadline_at > now())  AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $4 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT least($5::int, greatest(0, $6::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) FOR UPDATE OF j SKIP LOCKED), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM ranked r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $7)
      SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $8), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $9::text)
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

SELECT EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'available' AND queue = $1) AS held,
        NULL::float8 AS "retryInMs";

SELECT id::text AS id FROM koban.jobs WHERE id = ANY($1::text::bigint[]) AND state = 'executing';
