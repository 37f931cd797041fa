"""The HTML operations report in a real browser: every chart is laid out and painted.

Needs Chromium (the Debian package ``chromium``); ``nox -s browser`` installs it when it is
missing and runs this directory. Without it the tests are skipped, visibly, except where
``$CSDOMAIN_REQUIRE_BROWSER`` is set (CI, which installs Chromium): there a missing browser fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.demo import build_demo
from csdomain.kpi import ContactRecord
from csdomain.report import CHARTS, REPORT_ACTOR, OperationsReport, gather_report, render_html
from csdomain.service import ServiceDesk
from csdomain.store import open_store


pytestmark = pytest.mark.slow

BAR_CHARTS = ("returns-by-reason", "resolution-time", "warranty-reasons")

#: At 1280 px, every card's text and every chart's text inside its box, into <pre id=probe>.
OVERFLOW_PROBE = """
<script>
const problems = [];
for (const card of document.querySelectorAll(".cards li")) {
  const box = card.getBoundingClientRect();
  if (card.scrollWidth > card.clientWidth + 1) problems.push("card scrolls: " + card.textContent);
  for (const part of card.children) {
    const r = part.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.bottom > box.bottom + 1)
      problems.push("card text overflows: " + part.textContent);
  }
}
for (const svg of document.querySelectorAll("svg[data-chart]")) {
  const box = svg.getBoundingClientRect();
  for (const text of svg.querySelectorAll("text")) {
    const r = text.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1)
      problems.push(svg.dataset.chart + " text overflows: " + text.textContent);
  }
}
const pre = document.createElement("pre");
pre.id = "probe";
pre.textContent = JSON.stringify({cards: document.querySelectorAll(".cards li").length, problems});
document.body.appendChild(pre);
</script>
"""

#: Measures every chart and the mark of every data point after layout, into <pre id=probe>.
PROBE = """
<script>
const charts = [];
for (const svg of document.querySelectorAll("svg[data-chart]")) {
  const box = svg.getBoundingClientRect();
  const points = [];
  for (const point of svg.querySelectorAll("[data-value]")) {
    const mark = point.classList.contains("mark") ? point : point.querySelector(".mark");
    const r = mark ? mark.getBoundingClientRect() : {width: 0, height: 0};
    points.push({value: Number(point.dataset.value), width: r.width, height: r.height});
  }
  charts.push({chart: svg.dataset.chart, width: box.width, height: box.height, points});
}
const pre = document.createElement("pre");
pre.id = "probe";
pre.textContent = JSON.stringify(charts);
document.body.appendChild(pre);
</script>
"""


def chromium() -> str:
    """The Chromium executable, or a visible skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if os.environ.get("CSDOMAIN_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (CSDOMAIN_REQUIRE_BROWSER) but not installed")
        pytest.skip("chromium not installed: run nox -s browser")
    return found


def headless(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def september_calls() -> list[ContactRecord]:
    """The month's telephony log (the small demo records its calls before September)."""
    start = datetime(2026, 9, 8, 1, tzinfo=UTC)
    calls = []
    for n in range(60):
        offered = start + timedelta(minutes=41 * n)
        outbound = n % 5 == 0
        answered = None if n % 13 == 3 else offered + timedelta(seconds=5 + n % 35)
        calls.append(
            ContactRecord(
                id=f"RPT-BR-{n:04d}",
                offered_at=offered,
                answered_at=answered,
                ended_at=offered + timedelta(seconds=250 + n % 100),
                direction="outbound" if outbound else "inbound",
                abandoned=not outbound and answered is None,
                resolved_on_first_contact=None if answered is None else n % 7 != 0,
                rings=None if outbound or answered is None else 2 + n % 2,
            )
        )
    return calls


@pytest.fixture(scope="module")
def report() -> Iterator[OperationsReport]:
    chromium()
    store = open_store("sqlite://")
    try:
        build_demo(store)
        desk = ServiceDesk(store, clock=FixedClock(datetime(2026, 10, 2, tzinfo=UTC)))
        desk.record_contacts(september_calls(), by=Actor("cs", {"specialist"}))
        yield gather_report(desk, by=REPORT_ACTOR)
    finally:
        store.close()


def test_every_chart_is_laid_out_with_a_visible_mark_per_data_point(
    report: OperationsReport, tmp_path: Path
) -> None:
    page = render_html(report)
    probed = page.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    probed = probed.replace("</body>", PROBE + "</body>")
    target = tmp_path / "probe.html"
    target.write_text(probed, encoding="utf-8")
    result = headless(
        tmp_path / "profile",
        "--virtual-time-budget=5000",
        "--dump-dom",
        target.as_uri(),
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, result.stderr[-2000:]
    charts: list[dict[str, Any]] = json.loads(html.unescape(found[1]))
    assert [chart["chart"] for chart in charts] == list(CHARTS)
    for chart in charts:
        assert chart["width"] > 100, chart["chart"]
        assert chart["height"] > 20, chart["chart"]
        if chart["chart"] not in {"escalations-by-level", "failure-rate-by-model"}:
            assert chart["points"], f"{chart['chart']} rendered no data points"
        for point in chart["points"]:
            if point["value"] > 0:
                assert point["width"] > 0, (chart["chart"], point)
                assert point["height"] > 0, (chart["chart"], point)
        if chart["chart"] in BAR_CHARTS:
            top = max(chart["points"], key=lambda p: p["value"])
            for point in chart["points"]:
                expected = top["width"] * point["value"] / top["value"]
                assert point["width"] == pytest.approx(expected, abs=1.0)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_no_text_overflows_its_card_or_chart_at_1280_px(
    report: OperationsReport, tmp_path: Path, language: str
) -> None:
    """Rule: card labels are shown in full; no chart text runs out of its chart, in English
    and in Chinese (whose labels are shorter but each character twice as wide)."""
    page = render_html(report, language=language)
    probed = page.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    probed = probed.replace("</body>", OVERFLOW_PROBE + "</body>")
    target = tmp_path / "overflow.html"
    target.write_text(probed, encoding="utf-8")
    result = headless(
        tmp_path / "profile",
        "--window-size=1280,2000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        target.as_uri(),
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, result.stderr[-2000:]
    probe: dict[str, Any] = json.loads(html.unescape(found[1]))
    assert probe["cards"] == len(report.headlines)
    assert probe["problems"] == []


def _png_pixels(data: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, bytes per pixel and the unfiltered pixel rows of an 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8
    assert colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    out = bytearray()
    previous = bytearray(stride)
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        out += line
        previous = line
    return width, height, bpp, bytes(out)


def test_the_page_without_script_paints_its_charts(
    report: OperationsReport, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    target.write_text(render_html(report), encoding="utf-8")
    shot = tmp_path / "report.png"
    headless(
        tmp_path / "profile",
        "--window-size=1200,1600",
        "--force-device-scale-factor=0.5",
        f"--screenshot={shot}",
        target.as_uri(),
    )
    width, height, bpp, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (600, 800)
    colours: dict[bytes, int] = {}
    for i in range(0, len(pixels), bpp):
        colour = pixels[i : i + 3]
        colours[colour] = colours.get(colour, 0) + 1
    white = colours.get(b"\xff\xff\xff", 0)
    assert white < width * height * 0.97, "the page is blank"
    assert len(colours) > 20
    assert colours.get(bytes.fromhex("3b6ea5"), 0) > 200, "no chart bars painted"


def test_a_required_browser_that_is_missing_fails_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSDOMAIN_REQUIRE_BROWSER", "1")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(Path, "exists", lambda _self: False)
    with pytest.raises(pytest.fail.Exception, match="CSDOMAIN_REQUIRE_BROWSER"):
        chromium()
