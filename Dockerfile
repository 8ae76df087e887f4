# One image for every Folio service; docker-compose picks the entry point per service.
FROM node:20-bookworm-slim AS build
WORKDIR /folio
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY shared/package.json shared/
COPY command-side/package.json command-side/
COPY projections/package.json projections/
COPY query-side/package.json query-side/
RUN npm ci
COPY . .
RUN npx tsc -b && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# A larger young generation: a service allocates short-lived objects per request and per event,
# and with the default the scavenger ran often enough to take a sixth of its CPU (BENCHMARKS.md).
ENV NODE_OPTIONS=--max-semi-space-size=64
WORKDIR /folio
COPY --from=build /folio /folio
# A named volume mounted here takes this owner, so the audit signing key can be generated into it.
RUN mkdir -p /var/lib/folio-audit && chown node:node /var/lib/folio-audit
USER node
EXPOSE 3000
CMD ["node", "standalone/dist/src/main.js"]
