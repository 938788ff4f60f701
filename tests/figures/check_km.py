#!/usr/bin/env python3
"""Reads a Kaplan-Meier figure back from `pdftotext -bbox-layout` output and checks its
number-at-risk table against km.csv: each number equals the at-risk count at its tick by
R's summary(fit, times = t, extend = TRUE) rule (n_risk of the first row with time >= t,
0 past the last row), and each column's centre sits under its tick label's centre.
Usage: check_km.py BBOX.html KM.csv [R_NRISK.txt]   (prints one line per failure; exit 1 on any)
R_NRISK.txt, when given, holds R's n.risk at the same ticks, one curve per line."""
import csv, re, sys

TOL = 0.5  # points: the allowed offset between a tick label's centre and its column's centre

words = []
for m in re.finditer(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>',
                     open(sys.argv[1], encoding="utf-8").read()):
    x0, y0, x1, y1 = map(float, m.groups()[:4])
    words.append((x0, y0, x1, y1, m.group(5)))

def num(s):
    try:
        return float(s)
    except ValueError:
        return None

fails = []
title = [w for w in words if w[4] == "Time"]
head = [w for w in words if w[4] == "Number"]
if not title or not head:
    print("FAIL: no 'Time' axis title or no 'Number at risk' heading in the PDF text")
    sys.exit(1)
ty = title[0][1]
ticks = sorted([w for w in words if num(w[4]) is not None and ty - 25 < w[1] < ty], key=lambda w: w[0])
if len(ticks) < 2:
    print("FAIL: fewer than two x tick labels found")
    sys.exit(1)
tick_val = [num(w[4]) for w in ticks]
tick_mid = [(w[0] + w[2]) / 2 for w in ticks]

# km.csv: curves in file order
curves = {}
order = []
with open(sys.argv[2], newline="") as f:
    for r in csv.DictReader(f):
        if r["curve"] not in curves:
            curves[r["curve"]] = []
            order.append(r["curve"])
        curves[r["curve"]].append((float(r["time"]), float(r["n_risk"])))

def at_risk(rows, t):
    for time, n in rows:
        if time >= t:
            return n
    return 0.0

# risk rows: below the heading, grouped by baseline
hy = head[0][3]
rows = {}
for w in words:
    if w[1] > hy:
        rows.setdefault(round(w[1], 1), []).append(w)
lines = [sorted(rows[k], key=lambda w: w[0]) for k in sorted(rows)]
if len(lines) != len(order):
    fails.append("risk table has %d rows, km.csv %d curves" % (len(lines), len(order)))
rnrisk = [l.split() for l in open(sys.argv[3])] if len(sys.argv) > 3 else None
checked = 0
for i, (name, line) in enumerate(zip(order, lines)):
    nums = [w for w in line if num(w[4]) is not None][-len(ticks):]
    label = " ".join(w[4] for w in line if num(w[4]) is None)
    if label != name:
        fails.append("row %d is labelled '%s', expected '%s'" % (i, label, name))
    if len(nums) != len(ticks):
        fails.append("%s: %d numbers for %d ticks" % (name, len(nums), len(ticks)))
        continue
    for k, w in enumerate(nums):
        mid = (w[0] + w[2]) / 2
        if abs(mid - tick_mid[k]) > TOL:
            fails.append("%s: column at tick %g is centred at %.3f, its label at %.3f" % (name, tick_val[k], mid, tick_mid[k]))
        want = at_risk(curves[name], tick_val[k])
        if num(w[4]) != want:
            fails.append("%s: at risk at %g printed %s, km.csv gives %g" % (name, tick_val[k], w[4], want))
        if rnrisk is not None and num(w[4]) != float(rnrisk[i][k]):
            fails.append("%s: at risk at %g printed %s, R gives %s" % (name, tick_val[k], w[4], rnrisk[i][k]))
        checked += 1
for f in fails:
    print("FAIL:", f)
print("ticks %s; %d numbers checked" % (" ".join(w[4] for w in ticks), checked))
sys.exit(1 if fails or checked == 0 else 0)
