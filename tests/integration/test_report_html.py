"""The HTML report of a generated history, opened in real headless Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from mailroom import clock
from mailroom.cli import report as reportcli
from mailroom.store import queries as store
from mailroom.store.models import Clock, Rating, Ticket
from tests.unit.test_report import NOW, RULES_TEXT, generate, insert

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with nothing of its own going to the network."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: install it with 'apt-get install chromium' (./run.sh test does)")
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=180,
    )


def console_problems(stderr: str) -> list[str]:
    """Lines where the page itself logged something or threw."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG: (width, height, bytes per pixel, unfiltered rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture
def report_file(tmp_path: Path) -> Iterator[Path]:
    """report.html of 1,200 generated tickets, with hostile text in a comment and a subject."""
    handle = store.open_database(f"sqlite:///{tmp_path / 'mailroom.db'}")
    history = generate()
    insert(history)
    Ticket.update(subject=HOSTILE).execute()
    Ticket.update(team="<b>team</b>").where(Ticket.id == history[10].id).execute()
    latest = Rating.select().order_by(Rating.at.desc()).first()
    Rating.update(comment=HOSTILE).where(Rating.id == latest.id).execute()
    assert Clock.select().count() > 1000
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_TEXT)
    out = tmp_path / "report.html"
    settings = SimpleNamespace(support=SimpleNamespace(rules=rules))
    args = SimpleNamespace(since=None, until=None, team=None, json=False, html=str(out))
    clock.set_now(NOW)
    try:
        assert reportcli.main(settings, args) == 0
    finally:
        clock.set_now(None)
        handle.close()
    yield out


def test_the_page_is_self_contained_and_escaped(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    # Nothing to fetch: no scripts, links, images or stylesheets from anywhere.
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    assert not [t for t in tags if re.match(r"<(script|link|img|iframe|object|embed|image)\b", t, re.IGNORECASE)]
    assert not [t for t in tags if re.search(r"\s(src|href|xlink:href)\s*=", t, re.IGNORECASE)]
    assert not re.search(r"url\(|@import", html.split("</style>", 1)[0], re.IGNORECASE)
    assert "&lt;script&gt;" in html and "&lt;b&gt;team&lt;/b&gt;" in html
    assert html.count("<svg") == 3


def test_chromium_renders_the_charts_without_console_errors(report_file: Path, tmp_path: Path) -> None:
    url = report_file.as_uri()
    shot = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_problems(result.stderr) == []

    dom = chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_problems(dom.stderr) == []
    rendered = dom.stdout
    for chart in ("chart-achievement", "chart-ttfr", "chart-csat"):
        assert re.search(rf'<svg id="{chart}"', rendered), chart
    achievement = rendered.split('id="chart-achievement"', 1)[1].split("</svg>", 1)[0]
    assert achievement.count("<rect") >= 8  # one bar per week with answers
    assert 'stroke-dasharray="6 4"' in achievement  # the 95% target line
    histogram = rendered.split('id="chart-ttfr"', 1)[1].split("</svg>", 1)[0]
    assert histogram.count("<rect") >= 5
    csat = rendered.split('id="chart-csat"', 1)[1].split("</svg>", 1)[0]
    assert csat.count("<circle") >= 8 and "<path" in csat
    assert "<title>Support report</title>" in rendered  # the hostile script never ran
    assert "<script" not in rendered.lower()

    width, height, bpp, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    colours: dict[tuple[int, int, int], int] = {}
    for row in rows[::4]:
        for x in range(0, width * bpp, bpp * 4):
            key = (row[x], row[x + 1], row[x + 2])
            colours[key] = colours.get(key, 0) + 1
    assert len(colours) > 20, "the screenshot is blank"
    background = max(colours.values())
    assert background < 0.95 * sum(colours.values())
    green, orange, line = (0x2E, 0x7D, 0x32), (0xD8, 0x43, 0x15), (0xC6, 0x28, 0x28)
    near = [c for c in colours if any(sum(abs(a - b) for a, b in zip(c, want, strict=True)) < 12
                                      for want in (green, orange, line))]
    assert near, "no chart colours in the screenshot"
