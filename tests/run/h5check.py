#!/usr/bin/env python3
"""Reads a cohort run's results.h5 back with h5dump and checks it against the CSV outputs.

Usage: h5check.py RUN_DIR MANIFEST
Checks: /slides holds slides.csv's patient_id, slide and score columns, value for value (numbers
exactly, NA as NaN); /maps/<patient_id> exists for every scored slide and its counts sum to n_cells;
/survival/<endpoint>/<table> hold the CSV tables of dfs/ and os/; /calibration holds
calibration.csv; the root attributes name the manifest's SHA-256 and the version.
Prints one line per failed check and exits 1 if any failed.
"""
import csv, hashlib, math, re, subprocess, sys

run, manifest = sys.argv[1], sys.argv[2]
h5 = run + "/results.h5"
bad = []


def dump(*args):
    return subprocess.run(["h5dump", "-m", "%.17g", "-w", "0"] + list(args) + [h5],
                          capture_output=True, text=True, check=True).stdout


def unquote(s):
    s = s.strip().rstrip(",")
    if s.startswith('"'):
        return bytes(s[1:-1], "utf-8").decode("unicode_escape")
    return s


def records(text):
    """The records of a compound dataset's DATA block, each a list of field texts."""
    body = text[text.index("DATA {"):]
    recs, cur = [], None
    for line in body.splitlines()[1:]:
        t = line.strip()
        if t.startswith("}") and cur is not None:
            recs.append(cur)
            cur = None
        if t.endswith("{"):
            cur = []
        elif cur is not None and not t.startswith("}"):
            cur.append(unquote(t))
    return recs


def same(h5v, csvv, numeric):
    if not numeric:
        return h5v == csvv
    x = float(h5v)
    if csvv == "NA":
        return math.isnan(x)
    return x == float(csvv)


def check_table(name, path, key_cols=None):
    rows = list(csv.reader(open(path, newline="")))
    head, rows = rows[0], rows[1:]
    text = dump("-d", name)
    recs = records(text)
    if len(recs) != len(rows):
        bad.append(f"{name}: {len(recs)} records, {path} has {len(rows)} rows")
        return
    types = re.findall(r'(H5T_IEEE_F64LE|H5T_STRING \{[^}]*\}) "([^"]+)";', text)
    names = [n for _, n in types]
    if names != head:
        bad.append(f"{name}: fields {names} != {head}")
        return
    for i, (rec, row) in enumerate(zip(recs, rows)):
        for j, (t, n) in enumerate(types):
            if not same(rec[j], row[j], t.startswith("H5T_IEEE")):
                bad.append(f"{name} row {i} {n}: h5 {rec[j]!r}, csv {row[j]!r}")
                return


# /slides against slides.csv: patient_id, slide and the score columns (from 'status' on)
rows = list(csv.DictReader(open(run + "/slides.csv", newline="")))
head = list(rows[0].keys())
text = dump("-d", "/slides")
types = re.findall(r'(H5T_IEEE_F64LE|H5T_STRING \{[^}]*\}) "([^"]+)";', text)
names = [n for _, n in types]
want = ["patient_id", "slide"] + head[head.index("status"):]
if names != want:
    bad.append(f"/slides fields {names} != {want}")
else:
    recs = records(text)
    if len(recs) != len(rows):
        bad.append(f"/slides: {len(recs)} records, slides.csv {len(rows)}")
    for rec, row in zip(recs, rows):
        for j, (t, n) in enumerate(types):
            if not same(rec[j], row[n], t.startswith("H5T_IEEE")):
                bad.append(f"/slides {row['patient_id']} {n}: h5 {rec[j]!r}, csv {row[n]!r}")
                break

# /maps: one per scored slide, counts summing to n_cells
maps = dump("-g", "/maps")
found = {}
for m in re.finditer(r'DATASET "([^"]+)" \{(.*?)\n      \}', maps, re.S):
    nums = re.findall(r"\):\s*([0-9, ]+)", m.group(2))
    found[m.group(1)] = sum(int(v) for line in nums for v in line.replace(",", " ").split())
for row in rows:
    pid = row["patient_id"].replace("%", "%25").replace("/", "%2F")
    if pid.startswith("."):
        pid = "%2E" + pid[1:]
    if row["status"] == "ok":
        if pid not in found:
            bad.append(f"/maps/{pid}: missing")
        elif found[pid] != int(row["n_cells"]):
            bad.append(f"/maps/{pid}: {found[pid]} cells, slides.csv n_cells {row['n_cells']}")
    elif pid in found:
        bad.append(f"/maps/{pid}: present for a failed slide")

for ep in ("dfs", "os"):
    for t in ("km", "median", "cox", "fit", "tests"):
        check_table(f"/survival/{ep}/{t}", f"{run}/{ep}/{t}.csv")
check_table("/calibration", run + "/calibration.csv")

sha = hashlib.sha256(open(manifest, "rb").read()).hexdigest()
attr = dump("-a", "/manifest_sha256")
if sha not in attr:
    bad.append(f"manifest_sha256 attribute is not {sha}")
if '"hetsurv_version"' not in dump("-A", "-H"):
    bad.append("no hetsurv_version attribute")

for b in bad[:20]:
    print("FAIL h5:", b)
sys.exit(1 if bad else 0)
