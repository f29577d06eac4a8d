# syntax=docker/dockerfile:1
# One image per service of the field-service platform, built from the lock file.
#
#   docker build --build-arg SERVICE=onsite -t fieldservice/onsite:0.1.0 .
#
# The image holds the code of all four services; SERVICE (baked in from the build argument,
# overridable at run time) chooses which one the default command serves. Migrations:
#   docker run --rm -e POSTGRES_URL=... fieldservice/onsite:0.1.0 python -m devstack.cli migrate onsite

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- builder: resolve the locked dependencies into /app/.venv with uv -------------------------
FROM ${PYTHON_IMAGE} AS builder

# Same uv as the Makefile (UV_VERSION), installed from PyPI.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /app

# Dependencies first (a layer that changes only with the lock file) ...
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# ... then the project itself (installed editable: the venv points at /app, where the runtime
# stage puts the same code).
COPY shared ./shared
COPY services ./services
COPY devstack ./devstack
RUN uv sync --frozen --no-dev

# ---- runtime: the venv and the code, nothing else ----------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG SERVICE=dispatch
ENV SERVICE=${SERVICE} \
    PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=builder --chown=root:root /app/.venv /app/.venv
COPY --chown=root:root shared ./shared
COPY --chown=root:root services ./services
COPY --chown=root:root devstack ./devstack

# Numeric user, so Kubernetes can verify runAsNonRoot. The code is owned by root: read-only to it.
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# One uvicorn process per container: scale with replicas, not workers. Idle keep-alive (75 s)
# outlasts load balancers' and clients' idle timeouts, so the server never closes a connection
# a client is about to reuse.
CMD ["sh", "-c", "exec uvicorn \"services.${SERVICE}.main:create_app\" --factory --host 0.0.0.0 --port 8000 --timeout-graceful-shutdown 20 --timeout-keep-alive 75"]
