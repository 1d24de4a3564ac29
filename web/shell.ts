/** The one HTML page: the app reads its settings from data attributes (no inline script: the CSP forbids it). */
export function shell(page: {
  basePath: string;
  token: string;
  writable: boolean;
  refreshMs: number;
  csrfHeader: string;
}): string {
  const base = escapeHtml(page.basePath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Koban</title>
<link rel="stylesheet" href="${base}/assets/style.css">
</head>
<body data-base="${base}" data-token="${escapeHtml(page.token)}" data-writable="${page.writable}" data-refresh="${page.refreshMs}" data-csrf-header="${escapeHtml(page.csrfHeader)}">
<header><a class="brand" href="#/">Koban</a><nav>
<a href="#/">Overview</a><a href="#/jobs">Jobs</a><a href="#/queues">Queues</a><a href="#/workflows">Workflows</a><a href="#/batches">Batches</a><a href="#/crons">Cron</a><a href="#/nodes">Nodes</a>
</nav><span id="mode"></span><span id="live"></span></header>
<div id="flashes"></div>
<main id="app"><p>Loading…</p></main>
<script type="module" src="${base}/assets/app.js"></script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
