INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at, workflow_id, workflow_step, deps_remaining, batch_id)
    SELECT CASE WHEN t.deps_remaining > 0 THEN 'held' ELSE CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()), t.workflow_id, t.workflow_step, t.deps_remaining, t.batch_id FROM (SELECT $1::text AS worker, $2::text AS queue, $3::text AS meta, $4::text AS tags, $5::int AS max_attempts, $6::smallint AS priority, NULL::text AS scheduled_at, NULL::int AS deps_remaining, u.* FROM unnest($7::text::text[], $8::text::uuid[], $9::text::text[], $10::text::uuid[]) AS u(args, workflow_id, workflow_step, batch_id)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

SELECT j.id::text AS id FROM koban.jobs j
    WHERE j.state = 'available'
      AND j.workflow_id = $1::uuid
      AND true
    ORDER BY j.priority, j.scheduled_at, j.id;

SELECT j.id::text AS id FROM koban.jobs j
    WHERE j.state = 'available'
      AND true
      AND j.batch_id = $1::uuid
    ORDER BY j.priority, j.scheduled_at, j.id;
