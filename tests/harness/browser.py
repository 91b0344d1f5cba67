"""Headless Chromium (the Debian package) for looking at what a person would look at.

``render(html_path, workdir)`` loads a local page once for its DOM after layout and once for a
full-height screenshot; ``colour_counts(png, colours)`` counts the pixels of given colours, so a
test can tell that charts were drawn (their series colours are on screen), not only that the
markup is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium():
    """Path of a Chromium binary, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(binary, workdir, args, timeout=60):
    command = [
        binary, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
        # the page is our own local file; the sandbox cannot start as root in a container
        "--no-sandbox",
        "--user-data-dir=%s" % os.path.join(workdir, "chromium-profile"),
        *args,
    ]
    env = dict(os.environ, HOME=workdir)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def render(html_path, workdir, width=1000, height=3000):
    """``(dom_text, png_path)`` of a local HTML page rendered by headless Chromium."""
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("no Chromium on this machine; install the Debian package chromium")
    url = "file://" + os.path.abspath(html_path)
    dom = _run(binary, workdir, ["--dump-dom", url])
    if dom.returncode != 0 or "<html" not in dom.stdout:
        raise RuntimeError("chromium --dump-dom failed (%d): %s" % (dom.returncode, dom.stderr[-2000:]))
    png = os.path.join(workdir, "report.png")
    shot = _run(binary, workdir, ["--window-size=%d,%d" % (width, height), "--screenshot=%s" % png, url])
    if shot.returncode != 0 or not os.path.exists(png):
        raise RuntimeError("chromium --screenshot failed (%d): %s" % (shot.returncode, shot.stderr[-2000:]))
    return dom.stdout, png


def colour_counts(png_path, colours, tolerance=10):
    """``{colour: pixels}`` for ``#rrggbb`` colours (each channel within ``tolerance``), plus
    ``"non_white"``, the pixels that are not (near) white, and ``"total"``."""
    from PIL import Image

    with Image.open(png_path) as image:
        rgb_image = image.convert("RGB")
        # distinct colours with their pixel counts: a few thousand entries instead of millions of pixels
        histogram = rgb_image.getcolors(maxcolors=rgb_image.width * rgb_image.height)
    wanted = {c: tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colours}
    counts = {c: 0 for c in colours}
    counts["non_white"] = counts["total"] = 0
    for count, pixel in histogram:
        counts["total"] += count
        if min(pixel) >= 235:
            continue
        counts["non_white"] += count
        for name, rgb in wanted.items():
            if all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb)):
                counts[name] += count
    return counts
