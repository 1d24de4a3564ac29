// Koban Web: a small client with no dependencies and no build step. Every value from the server
// is set as text (never as HTML), pages refresh by polling with ETags, and writes carry the
// page's CSRF token.

const body = document.body;
const base = body.dataset.base;
const token = body.dataset.token;
const csrfHeader = body.dataset.csrfHeader;
const writable = body.dataset.writable === 'true';
const refreshMs = Number(body.dataset.refresh) || 2000;
const app = document.getElementById('app');
const states = [
  'available',
  'scheduled',
  'executing',
  'retryable',
  'completed',
  'discarded',
  'cancelled',
  'held',
];

document.getElementById('mode').textContent = writable ? '' : 'read only';

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, String(value));
  for (const child of children.flat())
    if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

const etags = new Map();
const bodies = new Map();

/** GET with the last ETag: a 304 answers the data already shown. */
async function get(path) {
  const headers = {};
  if (etags.has(path)) headers['if-none-match'] = etags.get(path);
  const response = await fetch(`${base}${path}`, { headers });
  if (response.status === 304) return { data: bodies.get(path), changed: false };
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  etags.set(path, response.headers.get('etag'));
  bodies.set(path, data);
  return { data, changed: true };
}

async function post(path, payload) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [csrfHeader]: token },
    body: JSON.stringify(payload || {}),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  etags.clear();
  return data;
}

function flash(text, kind) {
  const note = h('div', { class: `flash ${kind || ''}`, role: 'status' }, text);
  document.getElementById('flashes').replaceChildren(note);
  setTimeout(() => note.remove(), 6000);
}

function action(label, run, attrs) {
  return h(
    'button',
    {
      ...attrs,
      disabled: !writable,
      title: writable ? undefined : 'read only: authorize allows no writes',
      onclick: async (event) => {
        event.preventDefault();
        try {
          const message = await run();
          if (message) flash(message, 'ok');
          refresh(true);
        } catch (error) {
          flash(error.message, 'error');
        }
      },
    },
    label,
  );
}

const stateBadge = (state) => h('span', { class: `state ${state}` }, state);
const time = (value) =>
  value
    ? new Date(value)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '—';
function age(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}
const table = (headers, rows, attrs) =>
  h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((cell) => h('th', {}, cell)),
      ),
    ),
    h('tbody', {}, rows),
  );

// ---- charts -------------------------------------------------------------------------------

function sparkline(values, width = 120, height = 24) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map(
    (value, index) =>
      `${(index * step).toFixed(1)},${(height - (value / max) * (height - 2) - 1).toFixed(1)}`,
  );
  return svg(
    'svg',
    { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}` },
    svg('polyline', { points: points.join(' ') || `0,${height}` }),
  );
}

/** Sums points into one series per minute step, from `from` for `steps` steps. */
function series(points, pick, from, stepMs, steps, queue) {
  const values = new Array(steps).fill(0);
  for (const point of points) {
    if (queue && point.queue !== queue) continue;
    const index = Math.floor((new Date(point.at).getTime() - from) / stepMs);
    if (index >= 0 && index < steps) values[index] += pick(point);
  }
  return values;
}

function chart(title, lines, labels) {
  const width = 520;
  const height = 140;
  const max = Math.max(1, ...lines.flatMap((line) => line.values));
  const steps = lines[0] ? lines[0].values.length : 0;
  const x = (index) => 40 + (index * (width - 50)) / Math.max(1, steps - 1);
  const y = (value) => height - 20 - (value / max) * (height - 35);
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, title),
    svg(
      'svg',
      { width, height, viewBox: `0 0 ${width} ${height}` },
      svg('line', { x1: 40, y1: height - 20, x2: width - 10, y2: height - 20, class: 'axis' }),
      svg('text', { x: 2, y: 18, class: 'tick' }, labels.max(max)),
      svg('text', { x: 2, y: height - 20, class: 'tick' }, '0'),
      svg('text', { x: 40, y: height - 4, class: 'tick' }, labels.from),
      svg('text', { x: width - 60, y: height - 4, class: 'tick' }, 'now'),
      lines.map((line) =>
        svg('polyline', {
          class: `line ${line.class}`,
          points: line.values.map((value, index) => `${x(index)},${y(value)}`).join(' '),
        }),
      ),
    ),
    h(
      'div',
      { class: 'legend' },
      lines.map((line) => h('span', { class: `key ${line.class}` }, line.name)),
    ),
  );
}

function charts(points, range) {
  const stepMs = range === 'day' ? 15 * 60000 : 60000;
  const steps = range === 'day' ? 96 : 60;
  const from = Math.ceil(Date.now() / 60000) * 60000 - steps * stepMs;
  const sum = (pick) => series(points, pick, from, stepMs, steps);
  const weighted = (summary) => {
    const counts = sum((point) => point[summary].count);
    const totals = sum((point) => point[summary].meanMs * point[summary].count);
    return totals.map((total, index) => (counts[index] ? total / counts[index] : 0));
  };
  const labels = {
    from: range === 'day' ? '24 h ago' : '60 min ago',
    max: (value) => String(Math.round(value)),
  };
  const msLabels = { ...labels, max: (value) => `${Math.round(value)} ms` };
  return h(
    'section',
    { class: 'charts' },
    chart(
      `Throughput per ${range === 'day' ? '15 min' : 'minute'}`,
      [{ name: 'completed', class: 'completed', values: sum((point) => point.completed) }],
      labels,
    ),
    chart(
      'Failures',
      [
        { name: 'retried', class: 'retryable', values: sum((point) => point.retried) },
        { name: 'discarded', class: 'discarded', values: sum((point) => point.discarded) },
        { name: 'cancelled', class: 'cancelled', values: sum((point) => point.cancelled) },
      ],
      labels,
    ),
    chart(
      'Queue time and run time (mean)',
      [
        { name: 'queue time', class: 'scheduled', values: weighted('queueTime') },
        { name: 'run time', class: 'executing', values: weighted('runTime') },
      ],
      msLabels,
    ),
  );
}

// ---- pages --------------------------------------------------------------------------------

let chartRange = 'hour';

const pages = {
  async overview() {
    const [{ data }, metrics] = await Promise.all([
      get('/api/overview'),
      get(`/api/metrics?range=${chartRange}`),
    ]);
    const points = metrics.data;
    const from = Math.ceil(Date.now() / 60000) * 60000 - 60 * 60000;
    return [
      h('h1', {}, 'Overview'),
      h(
        'p',
        { class: 'summary' },
        `${data.nodes.filter((node) => node.alive).length} live node(s); leader: `,
        h('strong', {}, data.leader || 'none'),
      ),
      h('h2', {}, 'Queues'),
      data.queues.some((queue) => queue.estimated)
        ? h(
            'p',
            { class: 'note' },
            'Finished counts are estimated from a sample of the history (over 200,000 jobs).',
          )
        : null,
      table(
        [
          'queue',
          'available',
          'executing',
          'scheduled',
          'retryable',
          'completed',
          'discarded',
          'cancelled',
          'oldest waiting',
          'completed / min (1 h)',
          'nodes',
        ],
        data.queues.map((queue) =>
          h(
            'tr',
            {},
            h(
              'td',
              {},
              h('a', { href: `#/jobs?queue=${encodeURIComponent(queue.name)}` }, queue.name),
              queue.paused ? h('span', { class: 'tag paused' }, 'paused') : null,
            ),
            ['available', 'executing', 'scheduled', 'retryable', 'completed', 'discarded', 'cancelled'].map(
              (state) =>
                h(
                  'td',
                  { class: 'num' },
                  h(
                    'a',
                    { href: `#/jobs?queue=${encodeURIComponent(queue.name)}&state=${state}` },
                    queue.counts[state],
                  ),
                ),
            ),
            h('td', {}, age(queue.oldestAvailableAgeMs)),
            h('td', {}, sparkline(series(points, (point) => point.completed, from, 60000, 60, queue.name))),
            h(
              'td',
              {},
              queue.nodes.map((node) => `${node.node} (${node.running}/${node.limit})`).join(', ') || '—',
            ),
          ),
        ),
      ),
      h(
        'h2',
        {},
        'Charts ',
        h(
          'button',
          {
            class: chartRange === 'hour' ? 'on' : '',
            onclick: () => {
              chartRange = 'hour';
              refresh(true);
            },
          },
          'last hour',
        ),
        h(
          'button',
          {
            class: chartRange === 'day' ? 'on' : '',
            onclick: () => {
              chartRange = 'day';
              refresh(true);
            },
          },
          'last day',
        ),
      ),
      points.length === 0
        ? h('p', { class: 'note' }, 'No attempts recorded in the metrics history for this range yet.')
        : null,
      charts(points, chartRange),
      h('h2', {}, 'Nodes'),
      nodeTable(data.nodes),
    ];
  },

  async jobs(params) {
    const query = new URLSearchParams(params);
    query.delete('path');
    const { data } = await get(`/api/jobs?${query}`);
    const filter = filterOf(query);
    const selected = () => [...app.querySelectorAll('input.pick:checked')].map((box) => box.value);
    const bulkSelected = (verb) =>
      action(
        `${verb} selected`,
        async () => {
          const ids = selected();
          if (ids.length === 0) throw new Error('select jobs first');
          const result = await post(`/api/jobs/${verb}`, {
            ids,
            ...(verb === 'cancel' ? { reason: reasonText() } : {}),
          });
          return `${verb}: ${result.changed} of ${result.total} job(s) changed`;
        },
        { 'data-action': `${verb}-selected` },
      );
    const bulkFilter = (verb) =>
      action(
        `${verb} all matching`,
        async () => {
          if (Object.keys(filter).length === 0)
            throw new Error('set a filter first: an empty filter would select every job');
          const dry = await post(`/api/jobs/${verb}`, { filter, dryRun: true });
          if (!window.confirm(`${verb} ${dry.total} job(s) matching this filter?`)) return 'nothing changed';
          const result = await post(`/api/jobs/${verb}`, {
            filter,
            ...(verb === 'cancel' ? { reason: reasonText() } : {}),
          });
          return `${verb}: ${result.changed} of ${result.total} job(s) changed`;
        },
        { 'data-action': `${verb}-all` },
      );
    return [
      h('h1', {}, 'Jobs'),
      searchForm(query),
      h(
        'div',
        { class: 'bulk' },
        bulkSelected('retry'),
        bulkSelected('cancel'),
        bulkSelected('delete'),
        ' ',
        bulkFilter('retry'),
        bulkFilter('cancel'),
        bulkFilter('delete'),
        h('input', { id: 'reason', placeholder: 'cancel reason (kept in errors)', maxlength: 200 }),
      ),
      table(
        ['', 'id', 'state', 'queue', 'worker', 'attempt', 'inserted', 'tags', 'args'],
        data.jobs.map((job) =>
          h(
            'tr',
            { 'data-job': job.id },
            h(
              'td',
              {},
              h('input', {
                type: 'checkbox',
                class: 'pick',
                value: job.id,
                'aria-label': `select job ${job.id}`,
              }),
            ),
            h('td', {}, h('a', { href: `#/jobs/${job.id}` }, job.id)),
            h('td', {}, stateBadge(job.state)),
            h('td', {}, job.queue),
            h('td', {}, job.worker),
            h('td', { class: 'num' }, `${job.attempt}/${job.maxAttempts}`),
            h('td', {}, time(job.insertedAt)),
            h('td', {}, job.tags.join(', ')),
            h('td', { class: 'args' }, JSON.stringify(job.args).slice(0, 80)),
          ),
        ),
        { id: 'jobs' },
      ),
      data.jobs.length === 0 && !data.searched ? h('p', { class: 'note' }, 'No job matches.') : null,
      data.searched
        ? h(
            'p',
            { class: 'note', id: 'searched' },
            `Searched jobs ${data.searched.fromId} down to ${data.searched.toId}: ${data.jobs.length} found. `,
            'Older jobs may match too: ',
            h(
              'a',
              { href: `#/jobs?${withParam(query, 'cursor', data.next)}`, id: 'next' },
              'search older jobs →',
            ),
          )
        : data.next
          ? h(
              'p',
              {},
              h('a', { href: `#/jobs?${withParam(query, 'cursor', data.next)}`, id: 'next' }, 'next page →'),
            )
          : null,
    ];
  },

  async job(params) {
    const { data } = await get(`/api/jobs/${params.id}`);
    const job = data.job;
    const field = (name, value) => h('tr', {}, h('th', {}, name), h('td', {}, value));
    const recorded =
      data.recorded.status === 'ok'
        ? h('pre', {}, JSON.stringify(data.recorded.value, null, 2))
        : `(${data.recorded.status}) ${data.recorded.message || ''}`;
    return [
      h('h1', {}, `Job ${job.id} `, stateBadge(job.state)),
      h(
        'div',
        { class: 'bulk' },
        action(
          'Retry',
          async () => `retry: ${(await post('/api/jobs/retry', { ids: [job.id] })).changed} changed`,
          { 'data-action': 'retry' },
        ),
        action(
          'Cancel',
          async () => `cancel: ${(await post('/api/jobs/cancel', { ids: [job.id] })).changed} changed`,
          { 'data-action': 'cancel' },
        ),
        action(
          'Delete',
          async () => {
            if (!window.confirm(`delete job ${job.id}?`)) return 'nothing changed';
            await post('/api/jobs/delete', { ids: [job.id] });
            location.hash = '#/jobs';
            return `job ${job.id} deleted`;
          },
          { 'data-action': 'delete' },
        ),
      ),
      h(
        'table',
        { class: 'fields' },
        field('worker', job.worker),
        field('queue', job.queue),
        field('attempt', `${job.attempt} of ${job.maxAttempts}`),
        field('priority', job.priority),
        field('tags', job.tags.join(', ') || '—'),
        field('inserted', time(job.insertedAt)),
        field('scheduled', time(job.scheduledAt)),
        field('attempted', time(job.attemptedAt)),
        field('finished', time(job.completedAt || job.cancelledAt || job.discardedAt)),
        field('attempted by', job.attemptedBy.join(', ') || '—'),
        field(
          'workflow',
          job.workflowId
            ? h(
                'a',
                { href: `#/workflows/${job.workflowId}` },
                `${job.workflowId} (step ${job.workflowStep})`,
              )
            : '—',
        ),
        field(
          'batch',
          job.batchId
            ? h(
                'a',
                { href: `#/batches/${job.batchId}` },
                job.batchId + (job.batchCallback ? ` (callback ${job.batchCallback})` : ''),
              )
            : '—',
        ),
        field('progress', job.meta && job.meta.progress !== undefined ? String(job.meta.progress) : '—'),
      ),
      h('h2', {}, 'Args (as stored)'),
      h('pre', { id: 'args' }, JSON.stringify(job.args, null, 2)),
      h('h2', {}, 'Meta'),
      h('pre', {}, JSON.stringify(job.meta, null, 2)),
      h('h2', {}, 'Recorded value'),
      h('div', {}, recorded),
      h('h2', {}, `Errors (${job.errors.length})`),
      job.errors.length === 0
        ? h('p', { class: 'note' }, 'none')
        : h(
            'ol',
            { class: 'errors' },
            job.errors.map((error) =>
              h(
                'li',
                {},
                h('strong', {}, `attempt ${error.attempt}, ${error.at}: `),
                error.error,
                error.stack ? h('pre', {}, error.stack) : null,
              ),
            ),
          ),
    ];
  },

  async queues() {
    const { data } = await get('/api/overview');
    return [
      h('h1', {}, 'Queues'),
      table(
        ['queue', 'state', 'limit', 'available', 'executing', 'oldest waiting', 'nodes', ''],
        data.queues.map((queue) => {
          const input = h('input', {
            type: 'number',
            min: 1,
            value: queue.limit || queue.nodes[0]?.limit || 10,
            class: 'limit',
            'aria-label': `limit of ${queue.name}`,
          });
          return h(
            'tr',
            { 'data-queue': queue.name },
            h('td', {}, queue.name),
            h('td', {}, queue.paused ? h('span', { class: 'tag paused' }, 'paused') : 'running'),
            h('td', { class: 'num' }, queue.limit === null ? 'as started' : queue.limit),
            h('td', { class: 'num' }, queue.counts.available),
            h('td', { class: 'num' }, queue.counts.executing),
            h('td', {}, age(queue.oldestAvailableAgeMs)),
            h(
              'td',
              {},
              queue.nodes
                .map((node) => `${node.node} (${node.running}/${node.limit}${node.paused ? ', paused' : ''})`)
                .join(', ') || '—',
            ),
            h(
              'td',
              {},
              queue.paused
                ? action(
                    'Resume',
                    async () => {
                      await post(`/api/queues/${encodeURIComponent(queue.name)}/resume`);
                      return `${queue.name} resumed`;
                    },
                    { 'data-action': 'resume' },
                  )
                : action(
                    'Pause',
                    async () => {
                      await post(`/api/queues/${encodeURIComponent(queue.name)}/pause`);
                      return `${queue.name} paused`;
                    },
                    { 'data-action': 'pause' },
                  ),
              input,
              action(
                'Scale',
                async () => {
                  await post(`/api/queues/${encodeURIComponent(queue.name)}/scale`, {
                    limit: Number(input.value),
                  });
                  return `${queue.name} scaled to ${input.value}`;
                },
                { 'data-action': 'scale' },
              ),
            ),
          );
        }),
      ),
    ];
  },

  async workflows() {
    const { data } = await get('/api/workflows');
    return [
      h('h1', {}, 'Workflows'),
      table(
        ['workflow', 'name', 'inserted', 'steps by state'],
        data.map((flow) =>
          h(
            'tr',
            { 'data-workflow': flow.id },
            h('td', {}, h('a', { class: 'mono', href: `#/workflows/${flow.id}` }, flow.id)),
            h('td', {}, flow.name || '—'),
            h('td', {}, time(flow.insertedAt)),
            h('td', {}, counts(flow.counts)),
          ),
        ),
      ),
    ];
  },

  async workflow(params) {
    const { data } = await get(`/api/workflows/${params.id}`);
    return [
      h(
        'h1',
        {},
        'Workflow ',
        h('span', { class: 'mono' }, data.id),
        ' ',
        h('span', { class: `state ${data.state}`, id: 'workflow-state' }, data.state),
      ),
      h(
        'div',
        { class: 'bulk' },
        action(
          'Cancel workflow',
          async () => `cancelled ${(await post(`/api/workflows/${data.id}/cancel`)).changed} step(s)`,
          { 'data-action': 'cancel-workflow' },
        ),
        action(
          'Retry failed steps',
          async () => `retried ${(await post(`/api/workflows/${data.id}/retry`)).changed} step(s)`,
          { 'data-action': 'retry-workflow' },
        ),
      ),
      h('p', {}, counts(data.counts)),
      groupToggles(data.id, data.steps),
      graph(folded(data.steps, unfolded(data.id)), (name) => toggleGroup(data.id, name)),
      table(
        ['step', 'state', 'job', 'worker', 'deps'],
        data.steps.map((step) =>
          h(
            'tr',
            {},
            h('td', {}, step.name),
            h('td', {}, stateBadge(step.state)),
            h('td', {}, h('a', { href: `#/jobs/${step.jobId}` }, step.jobId)),
            h('td', {}, step.worker),
            h('td', {}, step.deps.join(', ')),
          ),
        ),
      ),
    ];
  },

  async batches() {
    const { data } = await get('/api/batches');
    return [
      h('h1', {}, 'Batches'),
      table(
        ['batch', 'name', 'inserted', 'progress', 'completed', 'discarded', 'cancelled', 'callbacks fired'],
        data.map((row) => {
          const done = row.completed + row.discarded + row.cancelled;
          return h(
            'tr',
            { 'data-batch': row.id },
            h('td', {}, h('a', { class: 'mono', href: `#/batches/${row.id}` }, row.id)),
            h('td', {}, row.name || '—'),
            h('td', {}, time(row.insertedAt)),
            h('td', {}, progress(done, row.total), ` ${done}/${row.total}`),
            h('td', { class: 'num' }, row.completed),
            h('td', { class: 'num' }, row.discarded),
            h('td', { class: 'num' }, row.cancelled),
            h('td', {}, `${row.fired.join(', ') || 'none'} (${row.fired.length} of ${row.callbacks.length})`),
          );
        }),
      ),
    ];
  },

  async batch(params) {
    const { data } = await get(`/api/batches/${params.id}`);
    const done = data.counts.completed + data.counts.discarded + data.counts.cancelled;
    const pending = data.callbacks.filter((callback) => !data.fired.includes(callback));
    return [
      h(
        'h1',
        {},
        'Batch ',
        h('span', { class: 'mono' }, data.id),
        ' ',
        data.finished ? h('span', { class: 'state completed' }, 'finished') : null,
      ),
      data.name ? h('p', { class: 'summary' }, 'Name: ', h('strong', {}, data.name)) : null,
      h('p', {}, progress(done, data.total), ` ${done} of ${data.total} finished`),
      h('p', {}, counts(data.counts)),
      h(
        'p',
        { id: 'callbacks' },
        'Callbacks fired: ',
        data.fired.join(', ') || 'none',
        '; pending: ',
        pending.join(', ') || 'none',
      ),
      h('p', {}, h('a', { href: `#/jobs?batch=${data.id}` }, 'the batch\u2019s jobs →')),
    ];
  },

  async crons() {
    const { data } = await get('/api/crons');
    return [
      h('h1', {}, 'Cron'),
      table(
        ['entry', 'source', 'expression', 'worker', 'last run', 'next run', ''],
        data.map((entry) =>
          h(
            'tr',
            { 'data-cron': entry.name },
            h('td', {}, entry.name, entry.paused ? h('span', { class: 'tag paused' }, 'paused') : null),
            h('td', {}, entry.source),
            h('td', { class: 'mono' }, entry.expression || '—', entry.timezone ? ` (${entry.timezone})` : ''),
            h('td', {}, entry.worker || '—'),
            h(
              'td',
              {},
              entry.lastRun
                ? [
                    h('a', { href: `#/jobs/${entry.lastRun.jobId}` }, time(entry.lastRun.insertedAt)),
                    ' ',
                    stateBadge(entry.lastRun.state),
                  ]
                : '—',
            ),
            h('td', {}, time(entry.nextRunAt)),
            h(
              'td',
              {},
              // A configured entry is run by the live nodes that have it.
              entry.source === 'database' || entry.nodes.length > 0 || entry.paused
                ? [
                    action(
                      'Run now',
                      async () =>
                        `job ${(await post(`/api/crons/${encodeURIComponent(entry.name)}/run`)).job} inserted`,
                      { 'data-action': 'run' },
                    ),
                    entry.paused
                      ? action(
                          'Resume',
                          async () => {
                            await post(`/api/crons/${encodeURIComponent(entry.name)}/resume`);
                            return `${entry.name} resumed`;
                          },
                          { 'data-action': 'resume' },
                        )
                      : action(
                          'Pause',
                          async () => {
                            await post(`/api/crons/${encodeURIComponent(entry.name)}/pause`);
                            return `${entry.name} paused`;
                          },
                          { 'data-action': 'pause' },
                        ),
                  ]
                : h('span', { class: 'note' }, 'no live node has this entry'),
            ),
          ),
        ),
      ),
    ];
  },

  async nodes() {
    const { data } = await get('/api/nodes');
    return [
      h('h1', {}, 'Nodes'),
      h('p', {}, 'Leader: ', h('strong', {}, data.leader || 'none')),
      nodeTable(data.nodes),
    ];
  },
};

function nodeTable(nodes) {
  return table(
    ['node', 'leader', 'alive', 'last heartbeat', 'started', 'queues'],
    nodes.map((node) =>
      h(
        'tr',
        {},
        h('td', {}, node.name),
        h('td', {}, node.leader ? '★ leader' : ''),
        h('td', {}, node.alive ? 'yes' : h('span', { class: 'state discarded' }, 'silent')),
        h('td', {}, `${age(Date.now() - new Date(node.heartbeatAt).getTime())} ago`),
        h('td', {}, time(node.startedAt)),
        h(
          'td',
          {},
          node.queues
            .map(
              (queue) => `${queue.queue} (${queue.running}/${queue.limit}${queue.paused ? ', paused' : ''})`,
            )
            .join(', '),
        ),
      ),
    ),
  );
}

function counts(byState) {
  return states
    .filter((state) => byState[state])
    .map((state) => h('span', { class: `state ${state}` }, `${state} ${byState[state]}`));
}

function progress(done, total) {
  return h('progress', { max: Math.max(1, total), value: done });
}

// ---- sub-workflows, folded ----------------------------------------------------------------
// The steps of a sub-workflow (and a graft's growth, a many's members) are named `part.step`:
// each part is drawn as one node with its steps' progress until it is unfolded.

/** The parts unfolded, per workflow id: kept across refreshes. */
const unfoldedParts = new Map();

function unfolded(id) {
  if (!unfoldedParts.has(id)) unfoldedParts.set(id, new Set());
  return unfoldedParts.get(id);
}

function toggleGroup(id, name) {
  const parts = unfolded(id);
  if (parts.has(name)) parts.delete(name);
  else parts.add(name);
  refresh(true);
}

const partOf = (name) => (name.includes('.') ? name.slice(0, name.indexOf('.')) : null);

/** The parts of a workflow, each with its steps (a graft's own step, named as the part, among them). */
function parts(steps) {
  const names = new Set(steps.map((step) => partOf(step.name)).filter(Boolean));
  const found = new Map();
  for (const step of steps) {
    const part = names.has(step.name) ? step.name : partOf(step.name);
    if (!part) continue;
    if (!found.has(part)) found.set(part, []);
    found.get(part).push(step);
  }
  return found;
}

/** A folded part's state: the most pressing of its steps' (completed only when all are). */
const statePriority = ['executing', 'retryable', 'discarded', 'cancelled', 'available', 'scheduled', 'held'];

function folded(steps, open) {
  const groups = parts(steps);
  const owner = new Map();
  for (const [part, members] of groups) {
    if (!open.has(part)) for (const step of members) owner.set(step.name, part);
  }
  const rename = (name) => owner.get(name) ?? name;
  const nodes = [];
  const seen = new Set();
  for (const step of steps) {
    const part = owner.get(step.name);
    if (!part) {
      nodes.push({ ...step, deps: [...new Set(step.deps.map(rename))] });
      continue;
    }
    if (seen.has(part)) continue;
    seen.add(part);
    const members = groups.get(part);
    const states = members.map((member) => member.state);
    const done = states.filter((state) => state === 'completed').length;
    const deps = new Set(members.flatMap((member) => member.deps.map(rename)));
    deps.delete(part);
    nodes.push({
      name: part,
      part: true,
      state: statePriority.find((state) => states.includes(state)) ?? 'completed',
      status: `${done}/${members.length} done`,
      deps: [...deps],
    });
  }
  return nodes;
}

function groupToggles(id, steps) {
  const groups = parts(steps);
  if (groups.size === 0) return null;
  const open = unfolded(id);
  return h(
    'p',
    { class: 'parts' },
    'Sub-workflows: ',
    [...groups].map(([part, members]) =>
      h(
        'button',
        { type: 'button', class: 'part-toggle', 'data-part': part, onclick: () => toggleGroup(id, part) },
        `${open.has(part) ? '▾ fold' : '▸ unfold'} ${part} (${members.length} steps)`,
      ),
    ),
  );
}

/** The workflow as a layered graph: each step in the column of its longest chain of deps. */
function graph(steps, onPart) {
  const byName = new Map(steps.map((step) => [step.name, step]));
  const depth = new Map();
  const depthOf = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0;
    seen.add(name);
    const step = byName.get(name);
    const value = step?.deps.length ? 1 + Math.max(...step.deps.map((dep) => depthOf(dep, seen))) : 0;
    depth.set(name, value);
    return value;
  };
  const columns = [];
  for (const step of steps) {
    const column = depthOf(step.name);
    if (!columns[column]) columns[column] = [];
    columns[column].push(step);
  }
  const boxW = 150;
  const boxH = 44;
  const gapX = 60;
  const gapY = 18;
  const position = new Map();
  columns.forEach((column, x) => {
    column.forEach((step, y) => {
      position.set(step.name, { x: 10 + x * (boxW + gapX), y: 10 + y * (boxH + gapY) });
    });
  });
  const width = 20 + columns.length * (boxW + gapX);
  const height = 20 + Math.max(1, ...columns.map((column) => column.length)) * (boxH + gapY);
  const edges = steps.flatMap((step) =>
    step.deps
      .filter((dep) => position.has(dep))
      .map((dep) => {
        const from = position.get(dep);
        const to = position.get(step.name);
        return svg('path', {
          class: 'edge',
          d: `M${from.x + boxW},${from.y + boxH / 2} C${from.x + boxW + gapX / 2},${from.y + boxH / 2} ${to.x - gapX / 2},${to.y + boxH / 2} ${to.x},${to.y + boxH / 2}`,
          'marker-end': 'url(#arrow)',
        });
      }),
  );
  const boxes = steps.map((step) => {
    const { x, y } = position.get(step.name);
    const label = step.part ? `▸ ${step.name}` : step.name;
    const node = svg(
      'g',
      {
        class: `step ${step.state}${step.part ? ' part' : ''}`,
        'data-step': step.name,
        'data-state': step.state,
        ...(step.part ? { 'data-part': step.name } : {}),
      },
      svg('rect', { x, y, width: boxW, height: boxH, rx: 6 }),
      svg(
        'text',
        { x: x + 8, y: y + 18, class: 'name' },
        label.length > 20 ? `${label.slice(0, 19)}…` : label,
      ),
      svg(
        'text',
        { x: x + 8, y: y + 35, class: 'status' },
        step.part ? `${step.state} · ${step.status}` : step.state,
      ),
    );
    if (step.part) node.addEventListener('click', () => onPart(step.name));
    return node;
  });
  return h(
    'div',
    { class: 'graph' },
    svg(
      'svg',
      { width, height, viewBox: `0 0 ${width} ${height}`, id: 'graph' },
      svg(
        'defs',
        {},
        svg(
          'marker',
          {
            id: 'arrow',
            viewBox: '0 0 10 10',
            refX: 9,
            refY: 5,
            markerWidth: 6,
            markerHeight: 6,
            orient: 'auto',
          },
          svg('path', { d: 'M0,0 L10,5 L0,10 z' }),
        ),
      ),
      edges,
      boxes,
    ),
  );
}

function reasonText() {
  const field = document.getElementById('reason');
  return field?.value ? field.value : undefined;
}

function filterOf(query) {
  const filter = {};
  const list = (key) =>
    query
      .getAll(key)
      .flatMap((value) => value.split(','))
      .filter(Boolean);
  if (list('state').length) filter.state = list('state');
  if (list('queue').length) filter.queue = list('queue');
  if (list('worker').length) filter.worker = list('worker');
  if (list('tag').length) filter.tags = list('tag');
  if (query.get('args')) filter.args = query.get('args');
  if (query.get('meta')) filter.meta = query.get('meta');
  if (query.get('workflow')) filter.workflowId = query.get('workflow');
  if (query.get('batch')) filter.batchId = query.get('batch');
  return filter;
}

function withParam(query, key, value) {
  const next = new URLSearchParams(query);
  next.set(key, value);
  return next.toString();
}

function searchForm(query) {
  const input = (name, placeholder) => h('input', { name, placeholder, value: query.get(name) || '' });
  const state = h(
    'select',
    { name: 'state' },
    h('option', { value: '' }, 'any state'),
    states.map((value) => h('option', { value, selected: query.get('state') === value }, value)),
  );
  return h(
    'form',
    {
      class: 'search',
      id: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        for (const [key, value] of new FormData(event.target)) if (value) next.set(key, String(value));
        location.hash = `#/jobs?${next}`;
      },
    },
    state,
    input('queue', 'queue'),
    input('worker', 'worker'),
    input('tag', 'tag'),
    input('args', 'text in args'),
    input('meta', 'text in meta'),
    h('button', { type: 'submit' }, 'Search'),
    h('a', { href: '#/jobs' }, 'clear'),
  );
}

// ---- routing and refresh ------------------------------------------------------------------

function route() {
  const [path, search] = location.hash.replace(/^#/, '').split('?');
  const params = Object.fromEntries(new URLSearchParams(search || ''));
  const parts = (path || '/').split('/').filter(Boolean);
  if (parts.length === 0) return ['overview', params];
  if (parts.length === 2 && parts[0] === 'jobs') return ['job', { id: parts[1] }];
  if (parts.length === 2 && parts[0] === 'workflows') return ['workflow', { id: parts[1] }];
  if (parts.length === 2 && parts[0] === 'batches') return ['batch', { id: parts[1] }];
  if (parts[0] === 'jobs') return ['jobs', new URLSearchParams(search || '')];
  return [parts[0], params];
}

let rendering = false;
let shown = '';

async function refresh(force) {
  if (rendering) return;
  rendering = true;
  const [name, params] = route();
  const page = pages[name];
  try {
    if (!page) {
      app.replaceChildren(h('h1', {}, 'Not found'));
      return;
    }
    const before = JSON.stringify([...bodies.entries()]);
    const content = await page(params);
    const key = `${location.hash}|${JSON.stringify([...bodies.entries()])}|${chartRange}`;
    // Re-render only when the data changed (or on navigation): a checked box stays checked.
    if (force || key !== shown || before !== JSON.stringify([...bodies.entries()])) {
      const checked = new Set([...app.querySelectorAll('input.pick:checked')].map((box) => box.value));
      const typed = [...app.querySelectorAll('input[id], input.limit')].map((field) => [
        field.id || field.getAttribute('aria-label'),
        field.value,
      ]);
      app.replaceChildren(...content.flat().filter(Boolean));
      for (const box of app.querySelectorAll('input.pick')) if (checked.has(box.value)) box.checked = true;
      for (const [id, value] of typed) {
        const field = app.querySelector(
          `input[id="${CSS.escape(id)}"], input[aria-label="${CSS.escape(id)}"]`,
        );
        if (field && value) field.value = value;
      }
      shown = key;
    }
    document.getElementById('live').textContent = `live · ${new Date().toLocaleTimeString()}`;
    for (const link of document.querySelectorAll('nav a'))
      link.classList.toggle(
        'on',
        link.getAttribute('href').split('?')[0] === `#/${(location.hash.split('/')[1] || '').split('?')[0]}`,
      );
  } catch (error) {
    app.replaceChildren(h('h1', {}, 'Error'), h('p', { class: 'flash error' }, error.message));
  } finally {
    rendering = false;
  }
}

window.addEventListener('hashchange', () => {
  document.getElementById('flashes').replaceChildren();
  refresh(true);
});
setInterval(() => {
  if (!document.hidden) refresh(false);
}, refreshMs);
refresh(true);
