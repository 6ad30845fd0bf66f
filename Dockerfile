# alf as a container image: `docker build -t alf .`, then `docker run --rm -v "$PWD:/data" alf analyze /data/access.log --out /data/report.html`.
# The image installs the package exactly as the README's Install section does (npm pack, npm install -g)
# and runs as the unprivileged `node` user of the base image.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json README.md ./
COPY src src
COPY parsers parsers
COPY reports reports
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp/pkg

FROM node:20-slim
COPY --from=build /tmp/pkg/ /tmp/pkg/
RUN npm install -g --no-audit --no-fund /tmp/pkg/alf-*.tgz && rm -rf /tmp/pkg /root/.npm
USER node
WORKDIR /data
ENTRYPOINT ["alf"]
CMD ["--help"]
