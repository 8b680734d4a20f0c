#!/bin/sh
# Render README pictures from the real PDFs: the cover, a contents page, a section page, the checklist,
# and a blueprint exam: its first paper page, its key's first page and an A3 two-up sheet.
# Usage: scripts/previews.sh HANDBOOK.pdf CHECKLIST.pdf EXAM_DIR A3_EXAM_DIR OUTDIR   (needs pdftoppm)
set -eu
handbook=$1 checklist=$2 exam=$3 a3=$4 out=$5
PY=${PY:-.venv/bin/python}

if ! command -v pdftoppm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing poppler-utils (pdftoppm) for the previews" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
    else
        echo "make previews needs pdftoppm: sudo apt-get install -y poppler-utils" >&2
        exit 1
    fi
fi

# The pages to show are found in the PDF itself (they move when the content grows):
# the detailed contents ("详细目录") and the page where section 2.1 starts.
pages=$("$PY" - "$handbook" <<'PY'
import sys
from pypdf import PdfReader
reader = PdfReader(sys.argv[1])
contents = next(n for n, page in enumerate(reader.pages, 1) if "详细目录" in page.extract_text())
sections = [entry for entry in reader.outline if isinstance(entry, list)]
section = reader.get_destination_page_number(sections[min(2, len(sections) - 1)][0]) + 1
print(contents, section)
PY
)
set -- $pages
mkdir -p "$out"
render() {  # render PDF PAGE NAME
    pdftoppm -r 70 -png -singlefile -f "$2" -l "$2" "$1" "$out/$3"
    echo "$out/$3.png"
}
render "$handbook" 1 cover
render "$handbook" "$1" contents
render "$handbook" "$2" section
render "$checklist" 1 checklist
render "$exam/paper-A.pdf" 1 paper
render "$exam/key-A.pdf" 1 key
render "$a3/paper.pdf" 1 a3-sheet
