/**
 * GET /docs: an interactive viewer of /openapi.json that works offline. The viewer is Swagger UI
 * from the swagger-ui-dist package, its files served by this process under /docs/assets/ (no CDN);
 * the validator badge, its one outside request, is switched off.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context, Handler } from 'hono';

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>nostr-cache API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="data:,">
</head>
<body>
  <noscript>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true });\n`;

/** The viewer's files, read once from the installed package. */
const ASSETS: Record<string, { type: string; file?: string; body?: string }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'init.js': { type: 'text/javascript; charset=utf-8', body: INIT },
};
const loaded = new Map<string, Buffer | string>();

function assetBody(name: string): Buffer | string | null {
  const asset = ASSETS[name];
  if (!asset) return null;
  let body = loaded.get(name);
  if (body === undefined) {
    const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    body = asset.body ?? readFileSync(join(dir, asset.file!));
    loaded.set(name, body);
  }
  return body;
}

export const docsHandler: Handler = (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  return c.html(PAGE);
};

export const docsAssetHandler = (c: Context) => {
  const name = c.req.param('name') ?? '';
  const body = assetBody(name);
  if (body === null) return c.json({ error: { code: 'not_found', message: `no asset ${name}`, details: null } }, 404);
  c.header('Content-Type', ASSETS[name]!.type);
  c.header('Cache-Control', 'public, max-age=86400');
  return c.body(typeof body === 'string' ? body : new Uint8Array(body));
};
