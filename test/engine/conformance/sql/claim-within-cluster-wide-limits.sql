INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS tags, $4::int AS max_attempts, $5::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($6::text::text[], $7::text::text[]) AS u(args, meta)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

SELECT pg_advisory_xact_lock($1, hashtext($2)), set_config('enable_bitmapscan', 'off', true);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT jsonb_build_array(j.args -> 'tenant')::text AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), started AS MATERIALIZED (
      SELECT rkey, weight FROM koban.flow_starts
      WHERE queue = $2 AND started_at > clock_timestamp() - $3 * interval '1 millisecond'), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, jsonb_build_array(j.args -> 'tenant')::text AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $4 AND jsonb_build_array(j.args -> 'tenant')::text NOT IN (SELECT pkey FROM running GROUP BY pkey HAVING sum(weight) >= $5) AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $6 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT greatest(least($7::int, greatest(0, $8::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) * $9::int, least($10::int, $11::int))), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_partition AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.pkey ORDER BY r.turn) AS taken
        FROM ranked r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM running u WHERE u.pkey = r.pkey), 0) <= $12), within_rate AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.rkey ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_partition r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM started u WHERE u.rkey = r.rkey), 0) <= $13), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_rate r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $14)
      SELECT j.id FROM koban.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $15)) AND j.state = 'available'
        AND (j.deadline_at IS NULL OR j.deadline_at > now())
      FOR UPDATE OF j SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $16::text)
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

WITH forgotten AS (
        DELETE FROM koban.flow_starts
        WHERE queue = $1 AND started_at <= clock_timestamp() - $2 * interval '1 millisecond'
      )
      INSERT INTO koban.flow_starts (queue, rkey, weight, started_at)
      SELECT $3, '', coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1), clock_timestamp()
      FROM koban.jobs j WHERE j.id = ANY($4::text::bigint[]);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT jsonb_build_array(j.args -> 'tenant')::text AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), started AS MATERIALIZED (
      SELECT rkey, weight FROM koban.flow_starts
      WHERE queue = $2 AND started_at > clock_timestamp() - $3 * interval '1 millisecond'), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, jsonb_build_array(j.args -> 'tenant')::text AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $4 AND jsonb_build_array(j.args -> 'tenant')::text NOT IN (SELECT pkey FROM running GROUP BY pkey HAVING sum(weight) >= $5) AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $6 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT greatest(least($7::int, greatest(0, $8::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) * $9::int, least($10::int, $11::int))), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_partition AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.pkey ORDER BY r.turn) AS taken
        FROM ranked r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM running u WHERE u.pkey = r.pkey), 0) <= $12), within_rate AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.rkey ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_partition r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM started u WHERE u.rkey = r.rkey), 0) <= $13), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_rate r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $14)
      SELECT j.id FROM koban.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $15)) AND j.state = 'available'
        AND (j.deadline_at IS NULL OR j.deadline_at > now())
      FOR UPDATE OF j SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $16::text)
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
        (SELECT date_part('epoch', min(started_at) + $2 * interval '1 millisecond' - clock_timestamp()) * 1000
        FROM koban.flow_starts WHERE queue = $3
          AND started_at > clock_timestamp() - $4 * interval '1 millisecond') AS "retryInMs";

WITH gone AS (DELETE FROM koban.jobs j WHERE id = ANY($1::text::bigint[]) AND attempt = $2 AND state = 'executing' RETURNING j.*) 
    INSERT INTO koban.job_history AS j (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by, unique_key, unique_states, recorded, workflow_id, workflow_step, deps_remaining, batch_id, batch_callback, progress, finished_at)
    SELECT d.id, 'completed', d.queue, d.worker, d.args, d.meta, d.tags, d.errors, d.attempt, d.max_attempts, d.priority, d.inserted_at, d.scheduled_at, d.attempted_at, now(), d.cancelled_at, d.discarded_at, d.attempted_by, d.unique_key, d.unique_states, d.recorded, d.workflow_id, d.workflow_step, d.deps_remaining, d.batch_id, d.batch_callback, d.progress, now() FROM gone d;

SELECT pg_advisory_xact_lock($1, hashtext($2)), set_config('enable_bitmapscan', 'off', true);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT jsonb_build_array(j.args -> 'tenant')::text AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), started AS MATERIALIZED (
      SELECT rkey, weight FROM koban.flow_starts
      WHERE queue = $2 AND started_at > clock_timestamp() - $3 * interval '1 millisecond'), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, jsonb_build_array(j.args -> 'tenant')::text AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $4 AND jsonb_build_array(j.args -> 'tenant')::text NOT IN (SELECT pkey FROM running GROUP BY pkey HAVING sum(weight) >= $5) AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $6 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT greatest(least($7::int, greatest(0, $8::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) * $9::int, least($10::int, $11::int))), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_partition AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.pkey ORDER BY r.turn) AS taken
        FROM ranked r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM running u WHERE u.pkey = r.pkey), 0) <= $12), within_rate AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.rkey ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_partition r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM started u WHERE u.rkey = r.rkey), 0) <= $13), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_rate r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $14)
      SELECT j.id FROM koban.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $15)) AND j.state = 'available'
        AND (j.deadline_at IS NULL OR j.deadline_at > now())
      FOR UPDATE OF j SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $16::text)
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

WITH forgotten AS (
        DELETE FROM koban.flow_starts
        WHERE queue = $1 AND started_at <= clock_timestamp() - $2 * interval '1 millisecond'
      )
      INSERT INTO koban.flow_starts (queue, rkey, weight, started_at)
      SELECT $3, '', coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1), clock_timestamp()
      FROM koban.jobs j WHERE j.id = ANY($4::text::bigint[]);

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT jsonb_build_array(j.args -> 'tenant')::text AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), started AS MATERIALIZED (
      SELECT rkey, weight FROM koban.flow_starts
      WHERE queue = $2 AND started_at > clock_timestamp() - $3 * interval '1 millisecond'), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, jsonb_build_array(j.args -> 'tenant')::text AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.state = 'available' AND j.queue = $4 AND jsonb_build_array(j.args -> 'tenant')::text NOT IN (SELECT pkey FROM running GROUP BY pkey HAVING sum(weight) >= $5) AND coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) <= $6 
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT greatest(least($7::int, greatest(0, $8::int - (SELECT coalesce(sum(weight), 0) FROM running)::int)) * $9::int, least($10::int, $11::int))), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_partition AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.pkey ORDER BY r.turn) AS taken
        FROM ranked r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM running u WHERE u.pkey = r.pkey), 0) <= $12), within_rate AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (PARTITION BY r.rkey ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_partition r
      ) r WHERE r.taken + coalesce((SELECT sum(u.weight) FROM started u WHERE u.rkey = r.rkey), 0) <= $13), within_global AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(r.weight) OVER (ORDER BY turn, priority, scheduled_at, id) AS taken
        FROM within_rate r
      ) r WHERE r.taken + (SELECT coalesce(sum(u.weight), 0) FROM running u) <= $14)
      SELECT j.id FROM koban.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM within_global ORDER BY turn, priority, scheduled_at, id LIMIT $15)) AND j.state = 'available'
        AND (j.deadline_at IS NULL OR j.deadline_at > now())
      FOR UPDATE OF j SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $16::text)
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
        (SELECT date_part('epoch', min(started_at) + $2 * interval '1 millisecond' - clock_timestamp()) * 1000
        FROM koban.flow_starts WHERE queue = $3
          AND started_at > clock_timestamp() - $4 * interval '1 millisecond') AS "retryInMs";

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

INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::int[], $7::text::smallint[], $8::text::text[]) AS t(worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

SELECT pg_advisory_xact_lock($1, hashtext($2));

WITH claimable AS MATERIALIZED (
      WITH running AS MATERIALIZED (
      SELECT j.worker AS pkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight FROM koban.jobs j
      WHERE j.state = 'executing' AND j.queue = $1 ), heads AS MATERIALIZED (
      SELECT f.id FROM (
        SELECT DISTINCT ON (j.worker) j.id, j.state, j.worker AS pkey
        FROM koban.jobs j WHERE j.queue = $2 AND j.state IN ('available', 'scheduled', 'retryable', 'executing', 'discarded', 'cancelled') 
        ORDER BY j.worker, j.id
      ) f WHERE f.state = 'available' AND NOT EXISTS (
          SELECT 1 FROM koban.job_history h
          WHERE h.queue = $3 AND h.state IN ('discarded', 'cancelled') AND h.id < f.id 
            AND h.worker = f.pkey)), candidates AS MATERIALIZED (
      SELECT j.id, j.priority, j.scheduled_at, j.worker AS pkey, '' AS rkey, coalesce(CASE WHEN jsonb_typeof(j.meta -> 'koban_weight') = 'number' THEN (j.meta ->> 'koban_weight')::numeric::int END, 1) AS weight
      FROM koban.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM heads)) AND j.state = 'available' AND j.worker NOT IN (SELECT pkey FROM running GROUP BY pkey HAVING sum(1) >= $4)  
      ORDER BY j.priority, j.scheduled_at, j.id
      LIMIT greatest($5::int * $6::int, least($7::int, $8::int))), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY pkey ORDER BY priority, scheduled_at, id) AS turn
      FROM candidates c), within_partition AS (
      SELECT * FROM (
        SELECT r.id, r.priority, r.scheduled_at, r.pkey, r.rkey, r.weight, r.turn, sum(1) OVER (PARTITION BY r.pkey ORDER BY r.turn) AS taken
        FROM ranked r
      ) r WHERE r.taken + coalesce((SELECT sum(1) FROM running u WHERE u.pkey = r.pkey), 0) <= $9)
      SELECT j.id FROM koban.jobs j
      WHERE j.id = ANY(ARRAY(SELECT id FROM within_partition ORDER BY turn, priority, scheduled_at, id LIMIT $10)) AND j.state = 'available'
        AND (j.deadline_at IS NULL OR j.deadline_at > now())
      FOR UPDATE OF j SKIP LOCKED), claimed AS (
      UPDATE koban.jobs j
      SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
          attempted_by = array_append(j.attempted_by, $11::text)
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
