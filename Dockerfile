# The one Kiln image: controller, webhook, store, build agent and the build pod's fetch step are all
# `kiln <command>`, run by name (`kiln` is on PATH), as the build pod's containers do.
#
#   docker build -t registry.example.com/kiln:0.1.0 .      # on a machine that reaches Docker Hub
#   npm run image                                           # here: buildah, into local storage as localhost/kiln:dev
ARG BASE=node:24-bookworm-slim

# Production dependencies only, installed from the lock file (the stand-ins' packages are optional
# dependencies, left out: the image carries no sandbox). The npm cache stays in this stage.
FROM ${BASE} AS deps
WORKDIR /opt/kiln
COPY package.json package-lock.json ./
# A build behind a TLS-inspecting proxy passes its CA bundle as a build-time mount and points Node at it
# here; the argument lives in this stage only, so neither the path nor the bundle reaches the image.
ARG NODE_EXTRA_CA_CERTS=
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --cache /tmp/npm-cache \
 && rm -rf /tmp/npm-cache

FROM ${BASE}
# git fetches the commit in the build pod's init container; CA certificates for HTTPS clones and APIs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kiln
COPY --from=deps /opt/kiln/node_modules ./node_modules
COPY package.json ./
COPY api ./api
COPY lib ./lib
COPY agent ./agent
COPY controllers ./controllers
COPY webhook ./webhook
COPY store ./store
COPY cli ./cli
COPY bin ./bin
# `kiln` on PATH: the build pod's fetch and agent containers are `command: ["kiln"]`.
RUN ln -s /opt/kiln/bin/kiln.ts /usr/local/bin/kiln && kiln --help >/dev/null
# Kiln's fixed non-root user (the manifests' runAsUser and the build pods' fsGroup).
USER 10001:10001
ENTRYPOINT ["kiln"]
