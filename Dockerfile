# syntax=docker/dockerfile:1
# Multi-stage build of every Mirror Maestro binary into one runtime image.
# The command decides the role: mirror-maestro (all-in-one / migrate), mm-api, mm-gateway, mm-worker.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config gcc g++ make \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
        --bin mirror-maestro --bin mm-api --bin mm-gateway --bin mm-worker \
    && mkdir -p /out \
    && cp target/release/mirror-maestro target/release/mm-api \
          target/release/mm-gateway target/release/mm-worker /out/

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mm \
    && useradd --system --uid 10001 --gid mm --home-dir /var/lib/mirror-maestro --create-home mm
COPY --from=builder /out/mirror-maestro /out/mm-api /out/mm-gateway /out/mm-worker /usr/local/bin/
ENV MM_DATA_DIR=/var/lib/mirror-maestro \
    MM_HTTP_ADDR=0.0.0.0:8080 \
    MM_GRPC_ADDR=0.0.0.0:50051 \
    MM_WORKER_ADDR=0.0.0.0:9091 \
    MM_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/mirror-maestro
EXPOSE 8080 50051 9091
# Default role: all-in-one; the health check follows the REST gateway. Split deployments
# override both (see docker-compose.yml and deploy/k8s).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/api/health/quick || exit 1
CMD ["mirror-maestro", "up"]
