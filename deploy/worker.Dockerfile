# syntax=docker/dockerfile:1
# The parcelwatch image: the worker by default, the webhook receiver with `ingest`, the
# simulator with `simulate ...`.
# Build from the repository root:  docker build -f deploy/worker.Dockerfile -t parcelwatch:local .
# The base image is pinned to an exact release, so a rebuild does not silently pick up a new
# Python or Debian. Digests could not be resolved where this was written (no registry access);
# to pin the exact bytes too, run `docker buildx imagetools inspect python:3.11.14-slim-bookworm`
# and append its digest: FROM python:3.11.14-slim-bookworm@sha256:<digest>. Bump both together.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Every dependency ships manylinux wheels, so no compiler is needed. .dockerignore keeps
# .venv, .git and local state out of the build context.
COPY . /tmp/parcelwatch-src
RUN pip install /tmp/parcelwatch-src && rm -rf /tmp/parcelwatch-src

# An unprivileged user owning the state directory: a named volume mounted there starts
# with this ownership, so RocksDB can write to it.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/parcelwatch parcelwatch \
    && mkdir -p /var/lib/parcelwatch \
    && chown parcelwatch:parcelwatch /var/lib/parcelwatch

ENV PARCELWATCH_DATA_DIR=/var/lib/parcelwatch \
    PARCELWATCH_WEB_HOST=0.0.0.0 \
    PARCELWATCH_WEB_PORT=6066

USER parcelwatch:parcelwatch
WORKDIR /var/lib/parcelwatch
VOLUME ["/var/lib/parcelwatch"]
EXPOSE 6066 8088

ENTRYPOINT ["parcelwatch"]
CMD ["worker"]
