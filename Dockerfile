# syntax=docker/dockerfile:1.7
# s3-csv-ingest: build with the full toolchain, run compiled JavaScript on a slim
# Node LTS image as a non-root user.
ARG NODE_VERSION=22

# Native modules (better-sqlite3) build from source when no prebuilt binary fits.
FROM node:${NODE_VERSION}-bookworm-slim AS toolchain
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./

# Production dependencies only, exactly as locked.
FROM toolchain AS deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# Everything, to compile src/ to dist/ (tsconfig.build.json: .ts imports rewritten to .js).
FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# package.json is needed at run time: it makes dist/*.js ES modules ("type": "module").
COPY --chown=node:node package.json ./
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The dashboard: dist/http/routes/dashboard-routes.js reads ../../../public, i.e. /app/public.
COPY --chown=node:node public ./public
RUN mkdir -p /data && chown node:node /data
USER node
# The SQLite job store (and the embedded S3 server's objects when S3_ENDPOINT is unset).
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains: /readyz turns 503, running jobs get SHUTDOWN_TIMEOUT_MS (default 30 s).
STOPSIGNAL SIGTERM
# Small V8 semi-spaces: rows and upload chunks die young. --expose-gc lets the threads that pass whole blocks
# around collect after each one. MALLOC_MMAP_THRESHOLD_ (above) keeps glibc from moving freed multipart part
# buffers into its heap, where RSS kept growing with the object; see docs/memory-and-speed.md.
CMD ["node", "--max-semi-space-size=1", "--expose-gc", "dist/main.js"]
