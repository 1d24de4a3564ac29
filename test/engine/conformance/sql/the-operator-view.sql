INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS meta, $2::text AS tags, $3::int AS max_attempts, $4::smallint AS priority, NULL::text AS scheduled_at, u.* FROM unnest($5::text::text[], $6::text::text[], $7::text::text[]) AS u(worker, queue, args)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

WITH target AS MATERIALIZED (
          SELECT id, state, attempt FROM koban.jobs
          WHERE id = ANY($1::text::bigint[]) AND state NOT IN ('completed', 'discarded', 'cancelled')
          ORDER BY id
          FOR UPDATE
        )
        UPDATE koban.jobs j SET state = 'cancelled', cancelled_at = now(), errors = array_append(j.errors, jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', $2::text))
        FROM target WHERE j.id = target.id
        RETURNING j.id::text AS id, j.worker, j.queue, j.state AS state, target.state AS previous, j.attempt, target.attempt AS "previousAttempt", j.workflow_id AS "workflowId", j.batch_id AS "batchId", j.batch_callback AS "batchCallback";

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j WHERE j.id = $1::bigint;

INSERT INTO koban.nodes AS n (name, queues, report)
    VALUES ($1, $2::text::text[], $3::jsonb)
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, report = excluded.report,
      started_at = CASE WHEN $4::boolean THEN now() ELSE n.started_at END
    RETURNING date_part('epoch', n.started_at) * 1000 AS started_at, (xmax = 0) AS created;

INSERT INTO koban.leaders AS l (name, node, expires_at)
    VALUES ('koban', $1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
      WHERE l.expires_at < now() OR l.node = excluded.node
    RETURNING node;

SET LOCAL statement_timeout = 5000;

SELECT j.id::text AS "id", j.state AS "state", j.queue AS "queue", j.worker AS "worker", j.args AS "args", j.meta AS "meta", to_json(j.tags) AS "tags", CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS "errors", j.attempt AS "attempt", j.max_attempts AS "maxAttempts", j.priority AS "priority", date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt", date_part('epoch', j.attempted_at) * 1000 AS "attemptedAt", date_part('epoch', j.completed_at) * 1000 AS "completedAt", date_part('epoch', j.cancelled_at) * 1000 AS "cancelledAt", date_part('epoch', j.discarded_at) * 1000 AS "discardedAt", to_json(j.attempted_by) AS "attemptedBy", j.workflow_id AS "workflowId", j.workflow_step AS "workflowStep", j.batch_id AS "batchId", j.batch_callback AS "batchCallback", j.progress AS "progress" FROM koban.all_jobs j
          WHERE true AND queue = $1 AND true ORDER BY j.id DESC LIMIT $2;

SET LOCAL statement_timeout = 5000;

SELECT id::text AS id FROM koban.all_jobs j
        WHERE true AND args::text ILIKE $1 AND true ORDER BY j.id DESC LIMIT $2;

SET LOCAL statement_timeout = 5000;

SELECT id::text AS id FROM koban.all_jobs j
        WHERE true AND state = $1 AND id < $2::bigint ORDER BY j.id DESC LIMIT $3;

SET LOCAL statement_timeout = 5000;

SELECT count(*)::int AS n FROM koban.all_jobs j WHERE true AND state = $1;

SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 AS rows
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = $1 AND p.relname = 'job_history';

WITH counted AS (
      SELECT queue, state, count(*)::int AS n FROM koban.jobs GROUP BY queue, state
      UNION ALL
      SELECT queue, state, count(*)::int AS n FROM koban.job_history GROUP BY queue, state
    ), per_queue AS (
      SELECT queue, jsonb_object_agg(state, n) AS counts
      FROM (SELECT queue, state, sum(n)::int AS n FROM counted GROUP BY queue, state) c GROUP BY queue
    ), names AS (
      SELECT queue FROM per_queue UNION SELECT name FROM koban.queues
      UNION SELECT unnest(queues) FROM koban.nodes
    )
    SELECT n.queue, p.counts, q.paused, q."limit", q.name IS NOT NULL AS stored,
      (SELECT date_part('epoch', min(j.scheduled_at)) * 1000 FROM koban.jobs j
        WHERE j.state = 'available' AND j.queue = n.queue) AS oldest
    FROM names n LEFT JOIN per_queue p ON p.queue = n.queue LEFT JOIN koban.queues q ON q.name = n.queue
    ORDER BY n.queue;

SELECT name, to_json(queues) AS queues, report,
      date_part('epoch', started_at) * 1000 AS "startedAt",
      date_part('epoch', heartbeat_at) * 1000 AS "heartbeatAt",
      date_part('epoch', now() - heartbeat_at) * 1000 AS "silentMs"
    FROM koban.nodes ORDER BY name;

SELECT node, date_part('epoch', expires_at) * 1000 AS "expiresAt"
    FROM koban.leaders WHERE name = 'koban' AND expires_at > now();

SELECT DISTINCT ON (meta->>'cron') meta->>'cron' AS name, id::text AS "jobId", state,
      meta->>'cronTick' AS tick, date_part('epoch', inserted_at) * 1000 AS "insertedAt"
    FROM koban.jobs
    WHERE unique_key LIKE 'cron:%' AND meta ? 'cron'
    ORDER BY meta->>'cron', id DESC;

SELECT w.id::text AS id, w.name, date_part('epoch', w.inserted_at) * 1000 AS "insertedAt",
      (SELECT jsonb_object_agg(c.state, c.n) FROM (
        SELECT j.state, count(*)::int AS n FROM koban.all_jobs j WHERE j.workflow_id = w.id GROUP BY j.state
      ) c) AS counts
    FROM koban.workflows w ORDER BY w.inserted_at DESC, w.id LIMIT $1;

SELECT id::text AS id, name, date_part('epoch', inserted_at) * 1000 AS "insertedAt",
      total, completed, discarded, cancelled, retryable, callbacks, fired
    FROM koban.batches ORDER BY inserted_at DESC, id LIMIT $1;
