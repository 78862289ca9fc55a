"""The HTML perf report in a real headless browser (Debian's chromium): it renders with
no console error, and the screenshot shows the charts' lines in the report's colours."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from harness.perf import _assessment as perf
from harness.perf import _report as perf_report
from harness.perf._report import PALETTE
from harness.perf._results import pooled
from tests.perf.test_assessment import BUDGETS, budgets, measure_at, run_at  # noqa: F401  (fixtures)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path) -> str:
    """Render `page` headless into `png`; what the browser logged."""
    assert CHROMIUM, "no chromium on PATH: apt-get install -y chromium (as .ci/run does)"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1000,1600",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def pixels(png: Path) -> list[tuple[int, int, int]]:
    """Every pixel's RGB of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = png.read_bytes()
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6), "not an 8-bit RGB(A) PNG"
    chunks, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            chunks += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(chunks)
    step = 3 if colour == 2 else 4
    stride = width * step
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min(
                    (abs(guess - left), left),
                    (abs(guess - up), up),
                    (abs(guess - corner), corner),
                    key=lambda c: c[0],
                )
                line[i] = (line[i] + near[1]) & 0xFF
        rows.append(line)
        previous = line
    return [tuple(row[i : i + 3]) for row in rows for i in range(0, stride, step)]  # type: ignore[misc]


def test_the_report_renders_with_no_script_error_and_shows_its_charts(measure_at, tmp_path):  # noqa: F811
    runs = [measure_at(5) for _ in range(3)]
    baseline = pooled(runs)
    assessment = perf.assess(runs[0], budgets(tmp_path, BUDGETS.format(p50=60_000)), baseline)
    page = perf_report.write(runs[0], assessment, tmp_path / "reports")[2]

    log = screenshot(page, tmp_path / "report.png")

    assert "CONSOLE" not in log and "Uncaught" not in log, log
    first = tuple(int(PALETTE[0][i : i + 2], 16) for i in (1, 3, 5))
    coloured = sum(1 for pixel in pixels(tmp_path / "report.png") if pixel == first)
    assert coloured > 50, "the charts' lines are not in the screenshot"
