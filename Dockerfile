# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies, then keep only production ones.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: non-root, embedded PGlite in /data unless DATABASE_URL points at a Postgres server.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    NOSTR_CACHE_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8787
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
COPY relays ./relays
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "dist/src/cli.js", "health", "--timeout", "8000"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start"]
