#!/usr/bin/env bash
# Builds bin/ferretdb (tools/ferretdb: FerretDB's embeddable package behind two flags) when it is
# missing or older than its source. The document store's tests start it on a free port against a
# PostgreSQL database of their own; `make test` runs this script through services.sh so that a
# clean clone has the binary. FerretDB lives in a module of its own (tools/ferretdb/go.mod): it
# pulls in an older pgx and mongo-driver v1.
set -euo pipefail
cd "$(dirname "$0")/.."

out=bin/ferretdb
src=(tools/ferretdb/main.go tools/ferretdb/go.mod tools/ferretdb/go.sum)
if [ -x "$out" ]; then
  fresh=1
  for f in "${src[@]}"; do [ "$f" -nt "$out" ] && fresh=0; done
  [ "$fresh" = 1 ] && exit 0
fi
echo "ferretdb: building $out (the first build downloads FerretDB's modules and takes minutes)" >&2
mkdir -p bin
# Built to a temporary name and moved: a test that runs while this builds never sees half a file.
tmp=$(mktemp bin/.ferretdb.XXXXXX)
trap 'rm -f "$tmp"' EXIT
(cd tools/ferretdb && CGO_ENABLED=0 go build -trimpath -o "../../$tmp" .)
mv -f "$tmp" "$out"
