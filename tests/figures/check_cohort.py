#!/usr/bin/env python3
"""Checks the cohort figure against the slides table it was drawn from.

Usage: check_cohort.py FIGURE.html SLIDES.csv TABLE.csv METRIC [CUT_LABEL]
  FIGURE.html: pdftotext -bbox-layout of the figure's PDF.
  The counts written over the bars (the number centred over each bar label, nearest above it) equal the counts of
  the scored rows of SLIDES.csv per IHC score and per HER2 category (and per pattern for the flag); failed rows are
  in no bar and the caption counts them; the histogram's bins in TABLE.csv (--table) sum to the scored slides with
  a value and cover each value once; CUT_LABEL's words appear on the figure.
"""
import csv
import re
import sys
from collections import Counter

html, slides, table, metric = sys.argv[1:5]
cut_label = sys.argv[5] if len(sys.argv) > 5 else None
words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', open(html).read())]
rows = list(csv.DictReader(open(slides)))
ok = [r for r in rows if r["status"] == "ok"]
problems = []


def bar_counts(labels, anchor, xlo=-1e9, xhi=1e9):
    """The count over each label of one panel: labels on the line of the word `anchor`, between xlo and xhi."""
    ys = [w[1] for w in words if w[4] == anchor]
    if len(ys) != 1:
        problems.append("label %r found %d times" % (anchor, len(ys)))
        return {}
    out = {}
    for lab in labels:
        cand = [w for w in words if w[4] == lab and abs(w[1] - ys[0]) < 0.5 and xlo <= w[0] < xhi]
        if len(cand) != 1:
            problems.append("bar label %r under %r found %d times" % (lab, anchor, len(cand)))
            continue
        x = (cand[0][0] + cand[0][2]) / 2
        above = [w for w in words if re.fullmatch(r"\d+", w[4]) and abs((w[0] + w[2]) / 2 - x) < 0.6
                 and w[3] <= cand[0][1]]
        if not above:
            problems.append("no count over %r" % lab)
            continue
        out[lab] = int(max(above, key=lambda w: w[3])[4])
    return out


def compare(what, drawn, want):
    for k, v in want.items():
        if drawn.get(k) != v:
            problems.append("%s %s: drawn %s, slides.csv has %d" % (what, k, drawn.get(k), v))


ihc = ["0", "1+", "2+", "3+", "NA"]
cat = ["null", "ultralow", "low", "equivocal", "positive", "NA"]
split = min([w[0] for w in words if w[4] == "null"] or [1e9])  # the category panel starts at its first label
compare("IHC score", bar_counts(ihc, "1+", xhi=split), {k: sum(r["ihc_score"] == k for r in ok) for k in ihc})
compare("HER2 category", bar_counts(cat, "ultralow", xlo=split), {k: sum(r["her2_class"] == k for r in ok) for k in cat})
tab = list(csv.DictReader(open(table)))
tot = {r["label"]: int(r["count"]) for r in tab if r["panel"] == "total"}
vals = sorted(float(r[metric]) for r in ok if r[metric] != "NA")
if tot.get("slides") != len(rows) or tot.get("failed") != len(rows) - len(ok):
    problems.append("totals %s, slides.csv has %d rows, %d failed" % (tot, len(rows), len(rows) - len(ok)))
if tot.get("metric_n") != len(vals) or tot.get("metric_missing") != len(ok) - len(vals):
    problems.append("metric n %s / missing %s, slides.csv has %d / %d" % (
        tot.get("metric_n"), tot.get("metric_missing"), len(vals), len(ok) - len(vals)))
if metric == "heterogeneous":
    pat = ["homogeneous", "clustered", "mosaic", "scattered", "NA"]
    compare("pattern", bar_counts(pat, "clustered"), {k: sum(r["pattern"] == k for r in ok) for k in pat})
else:
    bins = [r for r in tab if r["panel"] == "histogram"]
    if sum(int(b["count"]) for b in bins) != len(vals):
        problems.append("histogram bins sum to %d, %d values" % (sum(int(b["count"]) for b in bins), len(vals)))
    for i, b in enumerate(bins):  # R's hist(): (a, b], the first bin [a, b]
        lo, hi = float(b["lower"]), float(b["upper"])
        n = sum((lo <= v if i == 0 else lo < v) and v <= hi for v in vals)
        if n != int(b["count"]):
            problems.append("bin %s holds %d values, the table says %s" % (b["label"], n, b["count"]))
    drawn = Counter(w[4] for w in words)
    for b in bins:  # each non-empty bin's count is written on the figure
        if int(b["count"]) and not drawn[b["count"]]:
            problems.append("bin count %s not on the figure" % b["count"])
text = " ".join(w[4] for w in words)
caption = "%d slides: %d scored, %d failed" % (len(rows), len(ok), len(rows) - len(ok))
if caption not in text:
    problems.append("caption %r not on the figure" % caption)
if cut_label and cut_label not in text:
    problems.append("cut label %r not on the figure" % cut_label)
for p in problems:
    print("PROBLEM", p)
sys.exit(1 if problems else 0)
