#!/bin/sh
# Lints the gateway's OpenAPI document with Redocly's recommended rules (web/redocly.yaml): any
# finding fails. Without an argument the document is dumped fresh from the gateway (what
# /openapi.json serves) into a temporary directory; with one, that file is linted
# (e.g. `scripts/lint_openapi.sh openapi.json`, the committed copy). Exits 0 when clean.
set -eu
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
    spec=$1
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "${PYTHON:-../.venv/bin/python}" scripts/dump_openapi.py "$tmp/openapi.json"
    spec="$tmp/openapi.json"
fi
# no usage data sent, no update check: the lint runs offline
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    npx --no-install redocly lint "$spec" --config redocly.yaml --format=stylish
