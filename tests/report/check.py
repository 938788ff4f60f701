#!/usr/bin/python3
"""Loads an HTML page in headless Chromium, without network, and prints what a reader would see wrong, one
problem per line (exit 1 when there is any):

  - a console message (an uncaught script error is one) on Chromium's log;
  - the page's self-check (report.html's inline script, run on load) missing, or counting script or resource
    errors, or an <img> that did not decode (naturalWidth 0);
  - a figure named with --figure that is not an <img> that decoded, or whose screenshot (the page opened at
    #ID, where the report's CSS shows that figure alone) is blank: inside the box it takes on the
    screenshot, less than half the fraction of non-white pixels the image itself has (or 0.5%), or the
    image itself blank;
  - a figure named with --absent that is not stated as absent ("not drawn" in its text).

Usage: check.py PAGE.html [--figure ID]... [--absent ID]... [--shots DIR]
Chromium runs as root in CI: --no-sandbox, --headless, --disable-gpu, and a profile and HOME in a temporary
folder.  The network is closed by a proxy that goes nowhere and a resolver that finds no host."""
import argparse
import base64
import io
import html.parser
import os
import subprocess
import sys
import tempfile

from PIL import Image

MIN_INK = 0.005  # a figure covers at least 0.5% of the window with something that is not white


def chromium(url, args, tmp):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
           "--disable-extensions", "--user-data-dir=" + os.path.join(tmp, "profile"),
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--hide-scrollbars"] + args + [url]
    env = dict(os.environ, HOME=tmp)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)


class Dom(html.parser.HTMLParser):
    """The <html> attributes, every <img>'s attributes and the figure each lies in, and each figure's text."""

    def __init__(self):
        super().__init__()
        self.root, self.imgs, self.text, self.stack = {}, [], {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "img":
            fig = next((f for f in reversed(self.stack) if f), None)
            self.imgs.append((fig, a))
            return
        if tag in ("meta", "br", "hr", "input", "link"):
            return
        fid = a.get("id") if tag == "figure" else None
        if fid:
            self.text[fid] = ""
        self.stack.append(fid)

    def handle_endtag(self, tag):
        if tag not in ("img", "meta", "br", "hr", "input", "link") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for f in self.stack:
            if f:
                self.text[f] += data


def ink(png):
    """The fraction of pixels that are not white (alpha composited on white).  png: a path, a file or an image."""
    im = png if isinstance(png, Image.Image) else Image.open(png)
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, "white")
    im = Image.alpha_composite(bg, im).convert("RGB")
    px = im.getdata()
    dark = sum(1 for r, g, b in px if min(r, g, b) < 235)
    return dark / float(im.width * im.height)


def ink_box(png):
    """The ink fraction inside the bounding box of the non-white pixels, and that box's share of the image."""
    im = Image.open(png).convert("RGB")
    mask = im.convert("L").point(lambda v: 255 if v < 235 else 0)
    b = mask.getbbox()
    if not b:
        return 0.0, 0.0
    return ink(im.crop(b)), (b[2] - b[0]) * (b[3] - b[1]) / float(im.width * im.height)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("page")
    ap.add_argument("--figure", action="append", default=[])
    ap.add_argument("--absent", action="append", default=[])
    ap.add_argument("--shots", default=None)
    o = ap.parse_args()
    url = "file://" + os.path.abspath(o.page)
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        p = chromium(url, ["--dump-dom"], tmp)
        if p.returncode != 0 or "<html" not in p.stdout:
            bad.append("chromium could not load the page (exit %d): %s" % (p.returncode, p.stderr[-500:]))
        for line in p.stderr.splitlines():
            if ":CONSOLE" in line:
                bad.append("console message: " + line.split("] ", 1)[-1])
        d = Dom()
        d.feed(p.stdout)
        r = d.root
        if r.get("data-checked") != "yes":
            bad.append("the page's self-check did not run")
        if r.get("data-errors", "0") != "0":
            bad.append("the page recorded %s script or resource error(s)" % r.get("data-errors"))
        if r.get("data-undecoded", "0") != "0":
            bad.append("%s image(s) not decoded" % r.get("data-undecoded"))
        for fig, a in d.imgs:
            if a.get("data-decoded") != "yes":
                bad.append("image in %s not decoded" % (fig or "the page"))
        for fid in o.figure:
            imgs = [a for f, a in d.imgs if f == fid]
            if not imgs:
                bad.append("%s: no image" % fid)
                continue
            shot = os.path.join(o.shots or tmp, fid + ".png")
            s = chromium(url + "#" + fid, ["--screenshot=" + shot, "--window-size=1000,800"], tmp)
            if s.returncode != 0 or not os.path.exists(shot):
                bad.append("%s: no screenshot (exit %d)" % (fid, s.returncode))
                continue
            # Inside the box the figure takes on the screenshot (the bounding box of what is not white: the
            # image with its border and caption), at least half the ink fraction of the image itself; the box
            # at least 5% of the window; the image itself not blank.  A hidden, unpainted or blank figure fails.
            src = imgs[0].get("src", "")
            own = None
            if src.startswith("data:image/png;base64,"):
                try:
                    own = ink(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
                except Exception:
                    own = None
            if own is not None and own < MIN_INK:
                bad.append("%s: the image itself is blank (%.2f%% of its pixels not white)" % (fid, 100 * own))
            k, box = ink_box(shot)
            need = max(MIN_INK, 0.5 * own if own else 0)
            if box < 0.05 or k < need:
                bad.append("%s: blank on the screenshot (%.2f%% of the window drawn on, %.2f%% of that not white; "
                           "the image %s)" % (fid, 100 * box, 100 * k,
                                              "%.2f%%" % (100 * own) if own is not None else "not measured"))
            else:
                print("%s: visible (%.1f%% of the window, %.2f%% of it not white; the image itself %s)" %
                      (fid, 100 * box, 100 * k, "%.2f%%" % (100 * own) if own is not None else "not measured"))
        for fid in o.absent:
            if fid not in d.text:
                bad.append("%s: not on the page" % fid)
            elif "not drawn" not in d.text[fid] or any(f == fid for f, _ in d.imgs):
                bad.append("%s: not stated as absent" % fid)
    for b in bad:
        print("PROBLEM " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
