"""index.html in headless Chromium: the tables and every image load, with no network, and the page paints.

Skips only where no Chromium is installed (CI installs it: `apt-get install -y chromium`).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from test_analysis_curves import synthetic_curves
from test_analysis_scores import synthetic_scores

from reports import build_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--virtual-time-budget=5000"]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)")
def test_index_html_renders_tables_and_every_image_offline(tmp_path) -> None:
    means = {("omiga", 0.1, True): 0.8, ("omiga", 1.0, True): 0.7, ("omiga", 1.0, False): 0.5}
    scores = synthetic_scores(means, seeds=3, tasks=("toy",))
    curves = synthetic_curves(seeds=3, qualities=("good",))
    files = build_report(scores=scores, out_dir=tmp_path / "report", bootstrap_reps=100, curves=curves)
    uri = files.index.resolve().as_uri()
    result = subprocess.run([CHROMIUM, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", uri],
                            check=False, capture_output=True, text=True, timeout=90)
    dom = result.stdout
    assert '<table id="results">' in dom and '<table id="results-iqm">' in dom, result.stderr[-2000:]
    assert "omiga α=0.1 linear global" in dom
    images = re.findall(r"<img [^>]*>", dom)
    assert [re.search(r'src="([^"]+)"', i).group(1) for i in images][0] == "learning_curves.png"
    assert len(images) == 5
    assert all('data-loaded="yes"' in image for image in images), images
    shot = tmp_path / "page.png"
    subprocess.run([CHROMIUM, *_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}",
                    "--window-size=1280,2000", uri], check=False, capture_output=True, timeout=90)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # painted, not blank
