# syntax=docker/dockerfile:1
# Build: a static binary (no cgo), with version and commit stamped in.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/p2p ./cmd/p2p
# The blob directory, owned by nonroot, so that a fresh named volume mounted on it is writable.
RUN mkdir -p /out/blobs

# Run: distroless static, non-root. The binary holds its migrations, templates and OpenAPI document.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/p2p /usr/local/bin/p2p
COPY --from=build --chown=nonroot:nonroot /out/blobs /var/lib/p2p/blobs
USER nonroot:nonroot
EXPOSE 8080 9091
ENV P2P_ENV=production
ENTRYPOINT ["/usr/local/bin/p2p"]
CMD ["serve"]
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/p2p", "healthcheck"]
