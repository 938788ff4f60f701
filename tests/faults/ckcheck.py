#!/usr/bin/env python3
"""Checks what a killed (or finished) cohort run left in its output folder.

Usage: ckcheck.py RUN_DIR REF_DIR NPATIENT MODE
MODE killed: the state a kill may leave.  DIR/checkpoint holds only hetsurv's files (run.key, lock files,
  <i>.cells/.meta/.map for 0 <= i < NPATIENT, *.tmp); every <i>.meta is whole (its first line
  "hetsurv-measured 1", its last "end") with a verdict, and a measured slide has its .cells file, at least
  as long as the cells the verdict names; every output table present (slides.csv, calibration.csv,
  dfs|os/*.csv) is byte for byte the reference run's (a cut or stale file differs); when results.h5 is
  present, every table and report.html are too (results.h5 is renamed into place last).
MODE done: as killed, and every slide has its verdict, no temporary or map file is left anywhere in
  RUN_DIR, every table is present, and slides.csv has each patient exactly once, in manifest order.
Prints one line per failed check and exits 1 if any failed.
"""
import csv, os, re, sys

run, ref, npatient, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
bad = []
tables = ["slides.csv", "calibration.csv"] + [e + "/" + t + ".csv" for e in ("dfs", "os")
                                               for t in ("km", "median", "cox", "fit", "tests")]
ck = os.path.join(run, "checkpoint")
names = sorted(os.listdir(ck)) if os.path.isdir(ck) else []
verdicts = {}
for n in names:
    m = re.fullmatch(r"(\d+)\.(cells|meta|map)", n)
    if n in ("run.key", "lock", "lock.ranks") or n.endswith(".tmp") or ".tmp." in n:
        continue
    if not m or int(m.group(1)) >= npatient:
        bad.append("checkpoint: unexpected file " + n)
        continue
    if m.group(2) != "meta":
        continue
    lines = open(os.path.join(ck, n), "rb").read().decode("utf-8", "replace").split("\n")
    if lines[0] != "hetsurv-measured 1" or "end" not in lines[-3:]:
        bad.append("checkpoint: %s is not whole" % n)
        continue
    kv = dict(l.split(" ", 1) for l in lines if " " in l)
    v = kv.get("verdict", "")
    verdicts[int(m.group(1))] = v
    if v not in ("ok", "failed"):
        bad.append("checkpoint: %s: verdict '%s'" % (n, v))
    if v == "ok" and "cells_n" in kv:
        cells = os.path.join(ck, m.group(1) + ".cells")
        if not os.path.exists(cells):
            bad.append("checkpoint: %s says measured but %s.cells is missing" % (n, m.group(1)))
        elif int(kv["cells_n"]) > 0 and os.path.getsize(cells) == 0:
            bad.append("checkpoint: %s.cells is empty" % m.group(1))
if verdicts and "run.key" not in names:
    bad.append("checkpoint: verdicts without run.key")
for t in tables:
    p = os.path.join(run, t)
    if os.path.exists(p) and open(p, "rb").read() != open(os.path.join(ref, t), "rb").read():
        bad.append("%s differs from the reference run's (cut or stale)" % t)
h5 = os.path.exists(os.path.join(run, "results.h5"))
if h5 or mode == "done":
    for t in tables:
        if not os.path.exists(os.path.join(run, t)):
            bad.append("%s missing%s" % (t, " beside results.h5" if h5 else ""))
    if os.path.exists(os.path.join(ref, "report.html")) and not os.path.exists(os.path.join(run, "report.html")):
        bad.append("report.html missing beside results.h5")
if mode == "done":
    if not h5:
        bad.append("no results.h5")
    if sorted(verdicts) != list(range(npatient)):
        bad.append("checkpoint: %d of %d verdicts" % (len(verdicts), npatient))
    for root, _, files in os.walk(run):
        for f in files:
            if f.endswith(".tmp") or ".tmp." in f or f.endswith(".map"):
                bad.append("left over: " + os.path.relpath(os.path.join(root, f), run))
    p = os.path.join(run, "slides.csv")
    if os.path.exists(p):
        ids = [r["patient_id"] for r in csv.DictReader(open(p))]
        want = [r["patient_id"] for r in csv.DictReader(open(os.path.join(ref, "slides.csv")))]
        if ids != want:
            bad.append("slides.csv: patients %s, expected each of %d once" % (ids, len(want)))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
