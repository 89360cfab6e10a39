"""index.html in headless Chromium: the results table and every image load, with no network.

Skips only where no Chromium is installed (CI installs it: `apt-get install -y chromium`).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from test_analysis_scores import synthetic_scores

from reports import build_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)")
def test_index_html_renders_table_and_every_image_offline(tmp_path) -> None:
    scores = synthetic_scores({("omiga", 0.1, True): 0.8, ("omiga", 1.0, True): 0.7, ("omiga", 1.0, False): 0.5},
                              seeds=3)
    files = build_report(scores=scores, out_dir=tmp_path / "report", bootstrap_reps=200)
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", files.index.resolve().as_uri()],
        check=False, capture_output=True, text=True, timeout=60)
    dom = result.stdout
    assert '<table id="results">' in dom, result.stderr[-2000:]
    assert "omiga α=0.1 linear global" in dom
    images = re.findall(r"<img [^>]*>", dom)
    assert len(images) == 4
    assert all('data-loaded="yes"' in image for image in images), images
    assert re.search(r'id="image-status" data-loaded="4" data-total="4"', dom)
