/**
 * The status page's HTML, stylesheet and script, served by the process (no CDN, no build step).
 * The script fetches /status.json every 5 s and renders it with DOM text nodes (never innerHTML of
 * data), the ingest rate as an inline SVG chart.
 */

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>nostr-cache status</title>
  <link rel="stylesheet" href="/assets/status.css">
</head>
<body>
  <header>
    <h1>nostr-cache</h1>
    <span id="updated" class="muted">loading…</span>
    <nav><a href="/docs">API docs</a> · <a href="/health/ingest">/health/ingest</a> · <a href="/metrics">/metrics</a></nav>
  </header>
  <main>
    <section><h2>Ingest rate</h2><div id="rate"></div><p id="ingest" class="muted"></p></section>
    <section><h2>Relays</h2>
      <table id="relays"><thead><tr><th>relay</th><th>state</th><th>last event</th><th>failures</th><th>backoff</th><th>last error</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Scopes</h2>
      <table id="scopes"><thead><tr><th>scope</th><th>covered until</th><th>lag</th><th>holes</th><th>served by</th></tr></thead><tbody></tbody></table></section>
    <section><h2>Database</h2><dl id="database"></dl></section>
    <section><h2>Backfill jobs</h2>
      <table id="backfill"><thead><tr><th>job</th><th>status</th><th>range</th><th>relays</th><th>scopes</th><th>error</th></tr></thead><tbody></tbody></table></section>
  </main>
  <noscript>This page needs JavaScript; the same data is at <a href="/status.json">/status.json</a>.</noscript>
  <script src="/assets/status.js"></script>
</body>
</html>`;

export const STATUS_CSS = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --line: #8884; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 1.4rem; margin: 0; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
nav { margin-left: auto; } .muted { opacity: .7; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state-connected, .ok { color: var(--ok); } .state-backoff, .state-open_circuit, .bad { color: var(--bad); } .state-connecting { color: var(--warn); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { opacity: .7; }
svg { width: 100%; height: 140px; } svg .area { fill: #2f81f733; stroke: #2f81f7; stroke-width: 2; }
svg text { font-size: 11px; fill: currentColor; opacity: .7; }
`;

export const STATUS_JS = `'use strict';
(function () {
  var REFRESH_MS = 5000;
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function ago(ms) { if (ms === null || ms === undefined) return 'never'; var s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 90 ? s + ' s ago' : s < 5400 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago'; }
  function seconds(s) { if (s === null || s === undefined) return '–'; return s < 90 ? s + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h'; }
  function date(unix) { return unix === null || unix === undefined ? '–' : new Date(unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'; }
  function fill(id, rows, cells) {
    var body = document.querySelector('#' + id + ' tbody'); body.replaceChildren();
    if (rows.length === 0) { var tr = el('tr'); var td = el('td', 'none', 'muted'); td.colSpan = 9; tr.append(td); body.append(tr); return; }
    rows.forEach(function (row) { var tr = el('tr'); cells(row).forEach(function (c) { tr.append(c); }); body.append(tr); });
  }
  function chart(points) {
    var box = document.getElementById('rate'); box.replaceChildren();
    var ns = 'http://www.w3.org/2000/svg'; var svg = document.createElementNS(ns, 'svg');
    var W = 1000, H = 140, pad = 24; svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H); svg.setAttribute('role', 'img');
    var max = Math.max(1, Math.max.apply(null, points.map(function (p) { return p.perSecond; }).concat([0])));
    svg.setAttribute('aria-label', 'events stored per second over the last ' + points.length + ' intervals, peak ' + max);
    if (points.length > 0) {
      var t0 = points[0].at, t1 = points[points.length - 1].at, span = Math.max(1, t1 - t0);
      var xy = points.map(function (p) { return [pad + (W - 2 * pad) * (points.length === 1 ? 1 : (p.at - t0) / span), H - pad - (H - 2 * pad) * (p.perSecond / max)]; });
      var d = 'M' + xy[0][0] + ',' + (H - pad) + ' ' + xy.map(function (q) { return 'L' + q[0].toFixed(1) + ',' + q[1].toFixed(1); }).join(' ') + ' L' + xy[xy.length - 1][0] + ',' + (H - pad) + ' Z';
      var path = document.createElementNS(ns, 'path'); path.setAttribute('d', d); path.setAttribute('class', 'area'); svg.append(path);
    }
    var label = document.createElementNS(ns, 'text'); label.setAttribute('x', String(pad)); label.setAttribute('y', '14');
    label.textContent = 'peak ' + max + ' ev/s · last ' + Math.round(points.length * 10 / 60) + ' min'; svg.append(label);
    box.append(svg);
  }
  function render(s) {
    document.getElementById('updated').textContent = 'updated ' + new Date(s.generatedAt).toLocaleTimeString();
    chart(s.rate);
    document.getElementById('ingest').textContent = s.ingest.running
      ? 'stored ' + s.ingest.stored + ' events since start · ' + (s.ingest.eventsPerSecond ? s.ingest.eventsPerSecond.lastMinute : 0) + ' ev/s over the last minute'
      : 'ingest is not running in this process';
    fill('relays', s.relays, function (r) {
      return [el('td', r.url), el('td', r.state, 'state-' + r.state), el('td', ago(r.lastEventAt)), el('td', r.failures, 'num'),
        el('td', r.backoffSeconds === null ? '–' : 'retry in ' + seconds(r.backoffSeconds)), el('td', r.lastError || '', 'muted')];
    });
    fill('scopes', s.scopes, function (c) {
      return [el('td', c.scope), el('td', c.batched ? 'batched keys' : date(c.coveredUntil)), el('td', c.batched ? '–' : seconds(c.lagSeconds), 'num'),
        el('td', c.holes === 0 ? '0' : c.holes + ' (' + seconds(c.holeSeconds) + ')', c.holes === 0 ? 'num ok' : 'num bad'),
        el('td', (c.servedBy.length ? c.servedBy.join(', ') : 'nobody') + (c.fallbackActive ? ' (fallback)' : ''))];
    });
    var d = s.database, dl = document.getElementById('database'); dl.replaceChildren();
    var m = d.maintenance;
    [['health', d.healthy ? 'healthy' : 'NOT healthy' + (d.error ? ': ' + d.error : ''), d.healthy ? 'ok' : 'bad'], ['engine', d.driver + ' · ' + d.location],
     ['migrations', d.migrations.applied + ' of ' + d.migrations.available + ' applied'], ['missing tables', d.missingTables.length ? d.missingTables.join(', ') : 'none'],
     ['WASM heap', d.engineMemoryMb === null ? '–' : d.engineMemoryMb + ' MB'],
     ['maintenance', m ? m.steps + ' ANALYZE/VACUUM runs, last ' + (m.lastRunAt ? ago(Date.parse(m.lastRunAt)) : 'never') + ', longest ' + m.longestStatementMs + ' ms' : 'autovacuum (server) or not in this process']
    ].forEach(function (kv) { dl.append(el('dt', kv[0]), el('dd', kv[1], kv[2])); });
    fill('backfill', s.backfillJobs, function (j) {
      return [el('td', j.id), el('td', j.status, j.status === 'failed' ? 'bad' : j.status === 'done' ? 'ok' : ''), el('td', date(j.since) + ' → ' + date(j.until)),
        el('td', j.relays.join(', ')), el('td', j.scopes.join(', ')), el('td', j.error || '', 'muted')];
    });
    document.body.dataset.loaded = 'true';
  }
  function refresh() {
    fetch('/status.json', { headers: { Accept: 'application/json' } }).then(function (r) { return r.json(); }).then(render)
      .catch(function (e) { document.getElementById('updated').textContent = 'update failed: ' + e; })
      .finally(function () { setTimeout(refresh, REFRESH_MS); });
  }
  refresh();
})();
`;
