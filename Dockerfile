# syntax=docker/dockerfile:1
#
# The `claimtrail` binary (every service, the verifier and the tools) in a
# small Debian image that runs as a non-root user.
#
#   docker build -t claimtrail:0.1.0 .
#   docker run --rm claimtrail:0.1.0 --help
#
# The dependency layer is built by cargo-chef from a recipe of the workspace's
# manifests and lock file only, so that an edit to the sources rebuilds the
# workspace's own crates and not the ~400 dependencies.

ARG RUST_VERSION=1.95
ARG CARGO_CHEF_VERSION=0.1.78

FROM rust:${RUST_VERSION}-bookworm AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

# The recipe: manifests, lock file and skeleton targets of what `claimtrail` needs.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json --bin claimtrail

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer stays cached until Cargo.toml or Cargo.lock change.
RUN cargo chef cook --release --locked --recipe-path recipe.json -p claimtrail
COPY . .
RUN cargo build --release --locked -p claimtrail --bin claimtrail \
    && install -D -m 0755 target/release/claimtrail /out/claimtrail

FROM debian:bookworm-slim AS runtime
# ca-certificates for TLS to Postgres and NATS; curl for the docker-compose
# health checks (GET /readyz). Nothing else: SQLite is bundled into the binary.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid so that Kubernetes' runAsUser/fsGroup and volume ownership
# agree with the image. The key directory exists and belongs to that user so
# that a fresh named volume mounted there is writable (docker-compose).
RUN groupadd --system --gid 10001 claimtrail \
    && useradd --system --uid 10001 --gid claimtrail --home-dir /var/lib/claimtrail --shell /usr/sbin/nologin claimtrail \
    && install -d -o claimtrail -g claimtrail -m 0700 /var/lib/claimtrail /var/lib/claimtrail/keys \
       /var/lib/claimtrail/witness-keys /var/lib/claimtrail/checkpoints
COPY --from=builder /out/claimtrail /usr/local/bin/claimtrail

# In a container the API must listen on every interface (the CLI's default is
# 127.0.0.1:8080). Every flag of `claimtrail serve` has an environment variable;
# see `claimtrail serve --help`.
ENV CLAIMTRAIL_LISTEN=0.0.0.0:8080 \
    CLAIMTRAIL_KEY_DIR=/var/lib/claimtrail/keys \
    RUST_LOG=info

USER 10001:10001
WORKDIR /var/lib/claimtrail
EXPOSE 8080
# `claimtrail serve` stops pulling on SIGTERM and finishes in-flight work within
# CLAIMTRAIL_SHUTDOWN_TIMEOUT_MS (default 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["claimtrail"]
CMD ["--help"]
