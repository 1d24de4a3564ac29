INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS queue, $2::text AS meta, $3::text AS tags, $4::int AS max_attempts, $5::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($6::text::text[], $7::text::text[]) AS u(worker, args)) t
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

WITH gone AS (DELETE FROM koban.jobs j WHERE id = ANY($1::text::bigint[]) AND attempt = $2 AND state = 'executing' RETURNING j.*) 
    INSERT INTO koban.job_history AS j (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at, attempted_by, unique_key, unique_states, recorded, workflow_id, workflow_step, deps_remaining, batch_id, batch_callback, progress, finished_at)
    SELECT d.id, 'completed', d.queue, d.worker, d.args, d.meta, d.tags, d.errors, d.attempt, d.max_attempts, d.priority, d.inserted_at, d.scheduled_at, d.attempted_at, now(), d.cancelled_at, d.discarded_at, d.attempted_by, d.unique_key, d.unique_states, d.recorded, d.workflow_id, d.workflow_step, d.deps_remaining, d.batch_id, d.batch_callback, d.progress, now() FROM gone d;

INSERT INTO koban.prune_rules AS r (queue, worker, state, max_age)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT ((coalesce(queue, '')), (coalesce(worker, '')), (coalesce(state, '')))
    DO UPDATE SET max_age = EXCLUDED.max_age, updated_at = now()
    RETURNING r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt";

INSERT INTO koban.prune_rules AS r (queue, worker, state, max_age)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT ((coalesce(queue, '')), (coalesce(worker, '')), (coalesce(state, '')))
    DO UPDATE SET max_age = EXCLUDED.max_age, updated_at = now()
    RETURNING r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt";

INSERT INTO koban.prune_rules AS r (queue, worker, state, max_age)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT ((coalesce(queue, '')), (coalesce(worker, '')), (coalesce(state, '')))
    DO UPDATE SET max_age = EXCLUDED.max_age, updated_at = now()
    RETURNING r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt";

SELECT r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt"
    FROM koban.prune_rules r
    ORDER BY (CASE WHEN r.worker IS NULL THEN 0 ELSE 4 END + CASE WHEN r.queue IS NULL THEN 0 ELSE 2 END + CASE WHEN r.state IS NULL THEN 0 ELSE 1 END) DESC, r.worker NULLS LAST, r.queue NULLS LAST, r.state NULLS LAST;

SELECT r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt"
    FROM koban.prune_rules r
    ORDER BY (CASE WHEN r.worker IS NULL THEN 0 ELSE 4 END + CASE WHEN r.queue IS NULL THEN 0 ELSE 2 END + CASE WHEN r.state IS NULL THEN 0 ELSE 1 END) DESC, r.worker NULLS LAST, r.queue NULLS LAST, r.state NULLS LAST;

WITH old AS MATERIALIZED (
      SELECT h.id, h.finished_at FROM koban.job_history h
      WHERE h.finished_at < now() - $1 * interval '1 second'
        AND h.finished_at < now() - coalesce((
          SELECT coalesce(r.max_age, $2) FROM koban.prune_rules r
          WHERE (r.queue IS NULL OR r.queue = h.queue) AND (r.worker IS NULL OR r.worker = h.worker)
            AND (r.state IS NULL OR r.state = h.state)
          ORDER BY (CASE WHEN r.worker IS NULL THEN 0 ELSE 4 END + CASE WHEN r.queue IS NULL THEN 0 ELSE 2 END + CASE WHEN r.state IS NULL THEN 0 ELSE 1 END) DESC LIMIT 1), $3) * interval '1 second'
      LIMIT $4
    ), pruned AS (
      DELETE FROM koban.job_history h USING old
      WHERE h.id = old.id AND h.finished_at = old.finished_at
      RETURNING h.id, h.workflow_id
    ), edges AS (
      DELETE FROM koban.workflow_deps e USING pruned p WHERE p.workflow_id IS NOT NULL AND e.job_id = p.id
    )
    SELECT count(*)::int AS pruned FROM pruned;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

DELETE FROM koban.prune_rules r
    WHERE r.queue IS NOT DISTINCT FROM $1::text
      AND r.worker IS NOT DISTINCT FROM $2::text
      AND r.state IS NOT DISTINCT FROM $3::text
    RETURNING 1;

DELETE FROM koban.prune_rules r
    WHERE r.queue IS NOT DISTINCT FROM $1::text
      AND r.worker IS NOT DISTINCT FROM $2::text
      AND r.state IS NOT DISTINCT FROM $3::text
    RETURNING 1;

SELECT r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt"
    FROM koban.prune_rules r
    ORDER BY (CASE WHEN r.worker IS NULL THEN 0 ELSE 4 END + CASE WHEN r.queue IS NULL THEN 0 ELSE 2 END + CASE WHEN r.state IS NULL THEN 0 ELSE 1 END) DESC, r.worker NULLS LAST, r.queue NULLS LAST, r.state NULLS LAST;

WITH old AS MATERIALIZED (
      SELECT h.id, h.finished_at FROM koban.job_history h
      WHERE h.finished_at < now() - $1 * interval '1 second'
        AND h.finished_at < now() - coalesce((
          SELECT coalesce(r.max_age, $2) FROM koban.prune_rules r
          WHERE (r.queue IS NULL OR r.queue = h.queue) AND (r.worker IS NULL OR r.worker = h.worker)
            AND (r.state IS NULL OR r.state = h.state)
          ORDER BY (CASE WHEN r.worker IS NULL THEN 0 ELSE 4 END + CASE WHEN r.queue IS NULL THEN 0 ELSE 2 END + CASE WHEN r.state IS NULL THEN 0 ELSE 1 END) DESC LIMIT 1), $3) * interval '1 second'
      LIMIT $4
    ), pruned AS (
      DELETE FROM koban.job_history h USING old
      WHERE h.id = old.id AND h.finished_at = old.finished_at
      RETURNING h.id, h.workflow_id
    ), edges AS (
      DELETE FROM koban.workflow_deps e USING pruned p WHERE p.workflow_id IS NOT NULL AND e.job_id = p.id
    )
    SELECT count(*)::int AS pruned FROM pruned;

SELECT date_part('epoch', now() - $1 * interval '1 second') * 1000 AS cutoff;

SELECT c.relname AS name
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = $1 AND p.relname = 'job_history';

WITH old AS MATERIALIZED (
      SELECT id FROM koban.job_history_default WHERE finished_at < now() - $1 * interval '1 second' LIMIT $2
    ), pruned AS (
      DELETE FROM koban.job_history_default h WHERE h.id = ANY(ARRAY(SELECT id FROM old)) AND h.finished_at < now() - $3 * interval '1 second'
      RETURNING h.id, h.workflow_id
    ), guarded AS MATERIALIZED (
      SELECT id FROM koban.jobs
      WHERE state IN ('completed', 'discarded', 'cancelled') AND coalesce(completed_at, cancelled_at, discarded_at) < now() - $4 * interval '1 second'
      LIMIT $5
      FOR UPDATE SKIP LOCKED
    ), pruned_guarded AS (
      DELETE FROM koban.jobs WHERE id = ANY(ARRAY(SELECT id FROM guarded)) RETURNING id, workflow_id
    ), edges AS (
      DELETE FROM koban.workflow_deps e
      USING (SELECT * FROM pruned UNION ALL SELECT * FROM pruned_guarded) p
      WHERE p.workflow_id IS NOT NULL AND e.job_id = p.id
    )
    SELECT (SELECT count(*) FROM pruned)::int + (SELECT count(*) FROM pruned_guarded)::int AS pruned;

DELETE FROM koban.workflows w WHERE w.inserted_at < now() - $1 * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM koban.all_jobs j WHERE j.workflow_id = w.id);

DELETE FROM koban.batches b WHERE b.inserted_at < now() - $1 * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM koban.all_jobs j WHERE j.batch_id = b.id);
