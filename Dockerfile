# The one Kiln image: controller, webhook, build agent and the build pod's fetch step are all `kiln <command>`.
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kiln
COPY package.json package-lock.json ./
# Dev tools (and the kubectl download of the postinstall step) stay out of the image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY api ./api
COPY lib ./lib
COPY bin ./bin
COPY agent ./agent
COPY controllers ./controllers
COPY webhook ./webhook
USER 10001:10001
ENTRYPOINT ["node", "/opt/kiln/bin/kiln.ts"]
