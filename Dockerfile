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
# The contract suites under @folio/shared/testing are test helpers: no service imports them.
RUN npx tsc -b && npm prune --omit=dev && rm -r shared/dist/src/testing

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# A larger young generation: a service allocates short-lived objects per request and per event,
# and with the default the scavenger ran often enough to take a sixth of its CPU (BENCHMARKS.md).
ENV NODE_OPTIONS=--max-semi-space-size=64
WORKDIR /folio
# Only what the services run and read: the compiled dist/src of each workspace (not its tests,
# benchmarks or sources), the web UI, the production node_modules, and the package.json files
# the version and the workspace links in node_modules are read from.
COPY --from=build /folio/package.json ./
COPY --from=build /folio/node_modules node_modules/
COPY --from=build /folio/shared/package.json shared/
COPY --from=build /folio/shared/node_modules shared/node_modules/
COPY --from=build /folio/shared/dist/src shared/dist/src/
COPY --from=build /folio/command-side/package.json command-side/
COPY --from=build /folio/command-side/dist/src command-side/dist/src/
COPY --from=build /folio/projections/package.json projections/
COPY --from=build /folio/projections/dist/src projections/dist/src/
COPY --from=build /folio/query-side/package.json query-side/
COPY --from=build /folio/query-side/dist/src query-side/dist/src/
COPY --from=build /folio/query-side/dist/ui/src query-side/dist/ui/src/
COPY --from=build /folio/query-side/ui/public query-side/ui/public/
COPY --from=build /folio/standalone/dist/src standalone/dist/src/
# A named volume mounted here takes this owner, so the audit signing key can be generated into it.
RUN mkdir -p /var/lib/folio-audit && chown node:node /var/lib/folio-audit
USER node
EXPOSE 3000
CMD ["node", "standalone/dist/src/main.js"]
