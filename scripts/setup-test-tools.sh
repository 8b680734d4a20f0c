#!/bin/sh
# Tools the tests use beyond the venv: LibreOffice, headless — Calc to recalculate the score sheet as Excel/WPS
# would (tests/test_recalc.py), Writer (and Math, for the equations) to open every .docx paperkit writes
# (tests/test_docx.py). Installed with apt-get as root; anyone else is told the command.
set -eu

PACKAGES="libreoffice-calc-nogui libreoffice-writer-nogui libreoffice-math-nogui fonts-dejavu-core"
missing=""
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "the tests need LibreOffice (headless Calc and Writer) to check score sheets and Word files; install it, then run make test again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "installing test tools:$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
