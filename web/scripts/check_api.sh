#!/bin/sh
# Fails when the committed API description (web/openapi.json) or the client types generated from it
# (web/src/shared/api/schema.d.ts) no longer match the gateway: run `make web-api` and commit both.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-../.venv/bin/python}" scripts/dump_openapi.py "$tmp/openapi.json"
if ! cmp -s "$tmp/openapi.json" openapi.json; then
    diff -u openapi.json "$tmp/openapi.json" | head -40 >&2
    echo "web/openapi.json is stale: the gateway's API changed. Run 'make web-api' and commit the result." >&2
    exit 1
fi
npx openapi-typescript openapi.json -o "$tmp/schema.d.ts" >/dev/null
if ! cmp -s "$tmp/schema.d.ts" src/shared/api/schema.d.ts; then
    echo "web/src/shared/api/schema.d.ts is stale. Run 'make web-api' and commit the result." >&2
    exit 1
fi
echo "API client up to date with the gateway's OpenAPI document"
