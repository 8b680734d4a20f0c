"""README pictures of the answer-sheet loop: a printed 答题卡, the same page filled in and photographed, and the
review page `paperkit scan` writes. Usage: scripts/scan_preview.py WORKDIR OUTDIR (run by `make previews`)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import scan_sim as sim  # noqa: E402
from PIL import Image  # noqa: E402

from paperkit.exam.manifest import read_manifest  # noqa: E402
from paperkit.exam.sheet import layout_from_data  # noqa: E402


def main(work: Path, out: Path) -> None:
    paperkit = str(ROOT / ".venv" / "bin" / "paperkit")
    work.mkdir(parents=True, exist_ok=True)
    roster = work / "roster.csv"
    roster.write_text("姓名,学号,班级\n王喆,20260001,高一(3)班\n李堃,20260002,高一(3)班\n", encoding="utf-8")
    parts = "choice:10x2,multi:4x4,truefalse:5x2,fill:5x2,short:4x10"
    exam = work / "exam"
    subprocess.run(
        [
            paperkit,
            "exam",
            "--modules",
            "2,3,8",
            "--seed",
            "7",
            "--parts",
            parts,
            "--roster",
            str(roster),
            "--answer-sheet",
            "--out",
            str(exam),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    folder = next(p for p in exam.iterdir() if p.is_dir())
    manifest = read_manifest(folder / "manifest.json", flag="MANIFEST")
    rng = random.Random(7)
    scans = []
    for _sheet_id, holder in sorted(manifest.answer_sheet["sheets"].items()):
        layout = layout_from_data(manifest.answer_sheet["layouts"][holder["variant"]])
        marks = {}
        for number, boxes in layout.questions().items():
            values = [b.value for b in boxes]
            if number in {a.number for a in layout.areas}:
                marks[(number, str(rng.randint(0, 2)))] = "full"
            else:
                marks[(number, rng.choice(values))] = rng.choice(("full", "pencil"))
        if holder["student_id"] == "20260002":  # a tick and a changed mind, for the review page
            marks = {k: v for k, v in marks.items() if k[0] not in (3, 7)} | {(3, "B"): "tick", (7, "A"): "half"}
        pdf = next((folder / "sheets").glob(f"{holder['student_id']}-*.pdf"))
        pages = sim.filled_pages(pdf.read_bytes(), layout, marks, 200, rng.randint(0, 999))
        phone = sim.Condition("phone", 200, rotation=0, jitter=6, keystone=0.05, shadow=0.3, jpeg=75)
        scans += [sim.degrade(page, phone, rng) for page in pages]
        if holder["student_id"] == "20260001":
            Image.fromarray(sim.render_page(pdf.read_bytes(), 0, 70)).save(out / "answer-sheet.png", optimize=True)
            photo = Image.fromarray(scans[0])
            photo.thumbnail((900, 900))
            photo.save(out / "answer-sheet-photo.jpg", quality=80)
    batch = work / "photos.pdf"
    batch.write_bytes(sim.as_pdf(scans, 200))
    subprocess.run([paperkit, "scan", str(folder / "manifest.json"), str(batch)], check=True, cwd=ROOT)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # The page names the fonts a teacher's computer has; the picture uses the project's own.
    config = FontConfiguration()
    font, extra = ((ROOT / "fonts" / f"NotoSansSC-{name}.otf").as_uri() for name in ("Regular", "Extra"))
    fonts = CSS(
        string=f"@font-face {{ font-family: 'PK Sans'; src: url('{font}'); }}"
        f"@font-face {{ font-family: 'PK Sans Extra'; src: url('{extra}'); }}"
        "body { font-family: 'PK Sans', 'PK Sans Extra'; } @page { size: A4 landscape; margin: 10mm; }",
        font_config=config,
    )
    png = work / "review.pdf"
    HTML(filename=str(folder / "review.html")).write_pdf(png, stylesheets=[fonts], font_config=config)
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", "-f", "1", "-l", "1", str(png), str(out / "review")])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
