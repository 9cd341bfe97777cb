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

# Run: Debian slim, non-root. The binary holds its migrations, templates and OpenAPI document; the
# media worker needs ffmpeg (video posters and previews) and poppler (PDF pages and thumbnails),
# and the export worker a headless Chromium with Arabic fonts, so the image is not distroless any
# more (docs/design-notes.md, "The runtime image").
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata ffmpeg poppler-utils \
      chromium fonts-noto-core \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin nonroot
COPY --from=build /out/p2p /usr/local/bin/p2p
COPY --from=build --chown=nonroot:nonroot /out/blobs /var/lib/p2p/blobs
USER nonroot:nonroot
EXPOSE 8080 9091
ENV P2P_ENV=production
ENTRYPOINT ["/usr/local/bin/p2p"]
CMD ["serve"]
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/p2p", "healthcheck"]
