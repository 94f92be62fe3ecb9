# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies, then keep only production ones. The install
# step also builds the native libsecp256k1 verifier (src/nostr/native), ~5x faster than the WASM.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libsecp256k1-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY src/nostr/native ./src/nostr/native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: non-root, embedded PGlite in /data unless DATABASE_URL points at a Postgres server.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsecp256k1-1 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    NOSTR_CACHE_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8787
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/src/nostr/native/build/Release/nostr_secp256k1.node ./src/nostr/native/build/Release/
COPY package.json ./
COPY migrations ./migrations
COPY relays ./relays
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "dist/src/cli.js", "health", "--timeout", "8000"]
# A smaller young generation, and an old generation collected when it has doubled rather than grown
# up to fourfold, keep a million-event backfill at ~215 MB peak RSS instead of ~280 MB, for ~5% more
# CPU (bench/RESULTS.md, Ingest; bench/ingest.ts runs the daemon with these flags).
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "dist/src/cli.js"]
CMD ["start"]
