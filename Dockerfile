# syntax=docker/dockerfile:1
# The MDO Portal as a container: `docker build -t mdo-portal .`
# Runs as a non-root user on a read-only root filesystem; the only writable
# places it needs are /tmp (a tmpfs) and, if used, the checkpoint directory.
# See docs/operations.md; compose.yaml shows a whole single-host install.

# htmx and the NL Design System CSS from the npm registry, pinned by package-lock.json (no CDN at run time).
FROM node:22-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/mdo-portal
WORKDIR /app
COPY pyproject.toml README.md alembic.ini babel.cfg ./
COPY portal ./portal
COPY auth ./auth
COPY crypto ./crypto
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY --from=assets /src/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
COPY --from=assets /src/node_modules/@utrecht/component-library-css/dist/index.css ./static/vendor/utrecht-components.css
COPY --from=assets /src/node_modules/@utrecht/design-tokens/dist/index.css ./static/vendor/utrecht-tokens.css
COPY --from=assets /src/node_modules/@utrecht/design-tokens/src/arrow-dropdown.svg ./static/vendor/utrecht-arrow-dropdown.svg
# Editable: the portal finds its templates, static files and migrations next
# to its packages in /app, as in a checkout.
RUN /opt/mdo-portal/bin/pip install -e . \
 && /opt/mdo-portal/bin/pybabel -q compile -d portal/translations -D messages \
 && /opt/mdo-portal/bin/python -m compileall -q /app/portal /app/auth /app/crypto /app/migrations

FROM python:3.11-slim-bookworm
# libsofthsm2 is not installed: mount your HSM vendor's PKCS#11 module and set
# PORTAL_PKCS11_LIBRARY to its path.
RUN groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin portal \
 && install -d -o portal -g portal -m 0700 /var/lib/mdo-portal
COPY --from=build /opt/mdo-portal /opt/mdo-portal
COPY --from=build /app /app
ENV PATH=/opt/mdo-portal/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTAL_MODE=production \
    PORTAL_DATA_DIR=/var/lib/mdo-portal
WORKDIR /app
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["portal"]
CMD ["run", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
