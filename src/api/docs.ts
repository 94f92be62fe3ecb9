/** GET /docs: an interactive viewer of /openapi.json (Scalar's API reference, loaded from a CDN). */
import type { Handler } from 'hono';

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>nostr-cache API</title>
</head>
<body>
  <noscript>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
  <script id="api-reference" data-url="/openapi.json"></script>
  <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
</body>
</html>`;

export const docsHandler: Handler = (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  return c.html(PAGE);
};
