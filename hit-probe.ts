import { pino } from 'pino';
import { createApp } from './src/api/app.js';
import { ROUTE_GROUPS } from './src/api/routes/index.js';
import { openResponseCache } from './src/api/live-response-cache.js';
import { loadConfig } from './src/config.js';
import { openDatabase } from './src/db/client.js';
const database = await openDatabase({ url: 'postgres://postgres@127.0.0.1:5432/nc_bench', maxConnections: 4 });
const config = loadConfig({ LOG_LEVEL: 'info' });
const log = pino({ level: 'info' }, pino.destination('/dev/null'));
const live = await openResponseCache({ config, database, log });
while (!live.listening) await new Promise((r) => setTimeout(r, 50));
const app = createApp({ config, database, log, responseCache: live.cache }, ROUTE_GROUPS);
const first = await app.request('/v1/feed?limit=50');
console.log('body bytes', (await first.arrayBuffer()).byteLength, first.headers.get('x-cache'));
for (const path of ['/v1/feed?limit=50']) {
  for (let i = 0; i < 2000; i++) await (await app.request(path)).arrayBuffer();
  const n = 20000; const t = performance.now();
  for (let i = 0; i < n; i++) { const r = await app.request(path); await r.arrayBuffer(); }
  console.log(path, ((performance.now() - t) / n * 1000).toFixed(1), 'µs/request in-process');
}
await live.close(); await database.close();
