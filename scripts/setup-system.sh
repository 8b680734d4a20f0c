#!/bin/sh
# Make sure the Debian libraries WeasyPrint needs are present; install them with apt-get as root.
# libharfbuzz-subset0 matters: without it WeasyPrint subsets fonts with fontTools, ~14x slower for CJK.
set -eu

LIBS="libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 libharfbuzz-subset.so.0:libharfbuzz-subset0"
missing=""
for pair in $LIBS; do
    lib=${pair%%:*}
    pkg=${pair#*:}
    if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
        missing="$missing $pkg"
    fi
done
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing="$missing python3-venv"
fi

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "paperkit needs system libraries:$missing" >&2
    echo "install them, then run make again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing system libraries:$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
