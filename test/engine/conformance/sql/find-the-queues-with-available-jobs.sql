INSERT INTO koban.jobs AS j (state, worker, queue, args, meta, tags, max_attempts, priority, scheduled_at)
    SELECT CASE WHEN t.scheduled_at::timestamptz > now() THEN 'scheduled' ELSE 'available' END, t.worker, t.queue, t.args::jsonb, t.meta::jsonb, t.tags::text[], t.max_attempts, t.priority, coalesce(t.scheduled_at::timestamptz, now()) FROM (SELECT $1::text AS worker, $2::text AS meta, $3::text AS tags, $4::int AS max_attempts, $5::smallint AS priority, u.* FROM unnest($6::text::text[], $7::text::text[], $8::text::text[]) AS u(queue, args, scheduled_at)) t
    RETURNING j.id::text AS id, j.state, date_part('epoch', j.inserted_at) * 1000 AS "insertedAt", date_part('epoch', j.scheduled_at) * 1000 AS "scheduledAt";

SELECT q.queue FROM unnest($1::text::text[]) AS q(queue)
    WHERE EXISTS (SELECT 1 FROM koban.jobs j WHERE j.state = 'available' AND j.queue = q.queue);

SELECT q.queue FROM unnest($1::text::text[]) AS q(queue)
    WHERE EXISTS (SELECT 1 FROM koban.jobs j WHERE j.state = 'available' AND j.queue = q.queue);
