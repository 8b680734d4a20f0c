#!/bin/sh
# Tools the tests use beyond the venv: LibreOffice Calc, headless, to recalculate the score sheet as Excel/WPS
# would (tests/test_recalc.py). Installed with apt-get as root; anyone else is told the command.
set -eu

if command -v soffice >/dev/null 2>&1; then
    exit 0
fi
PACKAGES="libreoffice-calc-nogui fonts-dejavu-core"
if [ "$(id -u)" -ne 0 ]; then
    echo "the tests need LibreOffice Calc (headless) to recalculate score sheets; install it, then run make test again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $PACKAGES" >&2
    exit 1
fi
echo "installing test tools: $PACKAGES" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
