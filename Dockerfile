# syntax=docker/dockerfile:1
# inkling in one image: the service, the web UI and the shipped model (models/); no data.
#
#   docker build -t inkling .
#   docker run -p 3000:3000 -v inkling-data:/data inkling          # embedded PostgreSQL in /data
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://… inkling     # an existing PostgreSQL
#
# compose.yaml runs N replicas behind HAProxy on one PostgreSQL; deploy/README.md is the guide.

# --- build: the native cpu addon (C++17, node-gyp) and the production node_modules ------------
FROM node:20-bookworm AS build
WORKDIR /app
# node-gyp would download Node's headers; the Node image has them under /usr/local/include/node.
# swagger-ui-dist depends on @scarf/scarf, whose install script reports installs to its vendor.
ENV npm_config_nodedir=/usr/local \
    SCARF_ANALYTICS=false
COPY package.json package-lock.json .npmrc binding.gyp ./
COPY scripts/build-native.mjs scripts/native-stamp.mjs scripts/
COPY scripts/lib scripts/lib
COPY native/cpu native/cpu
# `npm ci` runs the package's install script (scripts/build-native.mjs), which builds
# build/Release/inkling_cpu.node. CMakeLists.txt and native/emu are left out: no CUDA backend and
# no CUDA emulator in this image (the install step skips both).
RUN npm ci --omit=dev --no-audit --no-fund \
 && test -f build/Release/inkling_cpu.node \
 && npm cache clean --force \
 # Other platforms' prebuilt WebGPU (Dawn) binaries: never loaded on linux-x64.
 && rm -rf node_modules/webgpu/dist/darwin* node_modules/webgpu/dist/win32* node_modules/webgpu/dist/linux-arm64

# --- runtime: slim, non-root --------------------------------------------------------------------
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    INKLING_DATA_DIR=/data
RUN groupadd --system --gid 10001 inkling \
 && useradd --system --uid 10001 --gid inkling --home-dir /app --shell /usr/sbin/nologin inkling \
 && mkdir -p /data && chown inkling:inkling /data
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/build/Release/inkling_cpu.node build/Release/inkling_cpu.node
COPY package.json ./
COPY bin bin
COPY src src
COPY training training
COPY sql sql
COPY web web
COPY models models
USER inkling
# The embedded PostgreSQL (used when DATABASE_URL is unset) and the spool live here.
VOLUME /data
EXPOSE 3000
# /readyz: model loaded, database reachable, not shutting down. Node's fetch: the slim image has
# no curl.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1's child-less main process: SIGTERM reaches `inkling serve`, which drains requests
# and flushes the prediction log before exiting.
CMD ["node", "bin/inkling.js", "serve"]
