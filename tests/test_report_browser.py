"""The HTML report opened in a real (headless) browser.

A parser cannot tell whether an embedded image decodes or whether the page
raises in the browser, so this test loads ``index.html`` in Chromium: every
``<img>`` must have decoded (``naturalWidth > 0``), the page must log no
console error and raise nothing, and a screenshot is saved beside the report
in the test's temporary folder.  ``.ci/run`` installs Debian's ``chromium``
when it is missing; where no browser exists the test is skipped, saying so.

The probe is a copy of the page with a small script prepended to ``<head>``.
It records ``console.error`` calls and uncaught errors, and after ``load`` it
writes what it saw as JSON into a ``<pre>`` element that ``--dump-dom``
prints.  The report itself carries no script (``tests/test_report.py``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from infolens.runs.report import find_runs, write_report

from test_report import _fake_run

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """<script>
window.__probe = {errors: []};
const original_error = console.error.bind(console);
console.error = (...args) => { window.__probe.errors.push(args.join(" ")); original_error(...args); };
window.addEventListener("error", (e) => window.__probe.errors.push(String(e.message || e.type)), true);
window.addEventListener("load", () => {
  const images = Array.from(document.images).map(
    (img) => ({alt: img.alt, width: img.naturalWidth, height: img.naturalHeight}));
  const pre = document.createElement("pre");
  pre.id = "infolens-probe";
  pre.textContent = JSON.stringify({images: images, errors: window.__probe.errors});
  document.body.appendChild(pre);
});
</script>"""


def _browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium or Chrome on this machine (.ci/run installs Debian's chromium "
                "with apt-get when it can; install it to run the browser check)")


def _run_browser(browser, *args, timeout=120):
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-dev-shm-usage", "--hide-scrollbars", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def report(tmp_path):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        _fake_run(runs / f"sup-{seed}", "supervised", seed, 1.0)
        _fake_run(runs / f"rand-{seed}", "random labels", seed, 0.2)
    findings = [{"finding": "DSMI(Z;Y) higher when supervised", "held": True,
                 "evidence": "gap 0.8 bits"}]
    return write_report(find_runs([runs]), str(tmp_path / "report"), findings=findings)


def test_report_renders_in_a_real_browser(report, tmp_path):
    browser = _browser()
    page = open(report["html"], encoding="utf-8").read()
    probe_page = tmp_path / "report" / "probe.html"
    probe_page.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    assert PROBE in probe_page.read_text(encoding="utf-8"), "the report has no <head> to probe"

    done = _run_browser(browser, "--virtual-time-budget=15000", "--dump-dom",
                        probe_page.as_uri())
    found = re.search(r'<pre id="infolens-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page never finished loading; browser stderr: {done.stderr[-2000:]}"
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    assert len(seen["images"]) == len(report["figures"]) >= 5
    undecoded = [image for image in seen["images"] if image["width"] <= 0]
    assert not undecoded, f"images that did not decode: {undecoded}"
    assert seen["errors"] == [], f"the page logged errors: {seen['errors']}"

    screenshot = tmp_path / "report" / "screenshot.png"
    _run_browser(browser, f"--screenshot={screenshot}", "--window-size=1280,2400",
                 (tmp_path / "report" / "index.html").as_uri())
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
