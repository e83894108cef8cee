# Container image of the `petrel` binary.
# Build: docker build -t petrel .
# Run:   docker run -p 9092:9092 -p 9464:9464 -v petrel-data:/var/lib/petrel petrel

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin petrel \
    && mkdir -p /out/var/lib/petrel \
    && cp target/release/petrel /out/petrel

# distroless "nonroot": glibc and CA certificates, no shell, runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/petrel /usr/local/bin/petrel
COPY --from=build --chown=65532:65532 /out/var/lib/petrel /var/lib/petrel
USER 65532:65532
VOLUME ["/var/lib/petrel"]
# 9092: Kafka clients; 9093: the controller listener (--controller-listen), Raft traffic between
# the nodes of a multi-node cluster only; 9464: Prometheus metrics.
EXPOSE 9092 9093 9464
# Flags, not ENV: PETREL_* variables given at `docker run -e` override these.
ENTRYPOINT ["/usr/local/bin/petrel"]
CMD ["--listen", "0.0.0.0:9092", "--metrics-listen", "0.0.0.0:9464", "--data-dir", "/var/lib/petrel"]
