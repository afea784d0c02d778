# Wheelhouse: one image for every role (master, replica, proxy); the command picks the role.
FROM node:20-bookworm-slim
WORKDIR /opt/wheelhouse
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY e2e/package.json e2e/tsconfig.json ./e2e/
COPY bench/package.json bench/tsconfig.json ./bench/
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npx tsc -b packages/cli && npm prune --omit=dev
ENV NODE_ENV=production
EXPOSE 3141 3142 3143
ENTRYPOINT ["node", "/opt/wheelhouse/bin/wheelhouse"]
