INSERT INTO koban.nodes AS n (name, queues, report)
    VALUES ($1, $2::text::text[], $3::jsonb)
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, report = excluded.report,
      started_at = CASE WHEN $4::boolean THEN now() ELSE n.started_at END
    RETURNING date_part('epoch', n.started_at) * 1000 AS started_at, (xmax = 0) AS created;

INSERT INTO koban.nodes AS n (name, queues, report)
    VALUES ($1, $2::text::text[], $3::jsonb)
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, report = excluded.report,
      started_at = CASE WHEN $4::boolean THEN now() ELSE n.started_at END
    RETURNING date_part('epoch', n.started_at) * 1000 AS started_at, (xmax = 0) AS created;

INSERT INTO koban.nodes AS n (name, queues, report)
    VALUES ($1, $2::text::text[], $3::jsonb)
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, report = excluded.report,
      started_at = CASE WHEN $4::boolean THEN now() ELSE n.started_at END
    RETURNING date_part('epoch', n.started_at) * 1000 AS started_at, (xmax = 0) AS created;

SELECT DISTINCT unnest(queues) AS queue FROM koban.nodes
    WHERE heartbeat_at > now() - $1 * interval '1 millisecond';

DELETE FROM koban.nodes WHERE name = $1;

SELECT DISTINCT unnest(queues) AS queue FROM koban.nodes
    WHERE heartbeat_at > now() - $1 * interval '1 millisecond';

INSERT INTO koban.leaders AS l (name, node, expires_at)
    VALUES ('koban', $1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
      WHERE l.expires_at < now() OR l.node = excluded.node
    RETURNING node;

INSERT INTO koban.leaders AS l (name, node, expires_at)
    VALUES ('koban', $1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
      WHERE l.expires_at < now() OR l.node = excluded.node
    RETURNING node;

INSERT INTO koban.leaders AS l (name, node, expires_at)
    VALUES ('koban', $1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
      WHERE l.expires_at < now() OR l.node = excluded.node
    RETURNING node;

DELETE FROM koban.leaders WHERE name = 'koban' AND node = $1;

INSERT INTO koban.leaders AS l (name, node, expires_at)
    VALUES ('koban', $1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
      WHERE l.expires_at < now() OR l.node = excluded.node
    RETURNING node;
