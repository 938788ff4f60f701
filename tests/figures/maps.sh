#!/bin/sh
# Slide-map tests: `hetsurv plot map` of a tile table from `score --map`, read back: valid PNG/PDF/SVG,
# byte-identical on a second run, each tumour tile's colour at its place on the PNG equal to the colour of
# its call in the table, the legend's counts equal to the table's; `hetsurv run` writes every slide's tile
# table (equal to score --manifest --map's), the gallery's maps (shown in report.html), every map with
# --maps all, none with --maps none; bad input named.  Usage: tests/figures/maps.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=maps pass=0 fail=0
. "$here/../cohort_checks.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
py=/usr/bin/python3
cd "$tmp" || exit 1

"$bin" simulate --patients 6 --seed 11 --size 2048 --out c > /dev/null 2>&1 || no "simulate"
"$bin" score --manifest c/manifest.csv --map sm --out s.csv > /dev/null 2>&1 || no "score --map"

# 1. plot map without the slide (tiles on white: the colours are exact) and with it
"$bin" plot map sm/P002.tiles.csv --out w/P002 --title "P002" > w.log 2>&1
expect "plot map exit" 0 "$?"
"$bin" plot map sm/P002.tiles.csv --slide c/slides/P002.tif --out t/P002 > t.log 2>&1
expect "plot map with the slide exit" 0 "$?"
"$bin" plot map sm/P002.tiles.csv --slide c/slides/P002.tif --out t2/P002 > /dev/null 2>&1
for e in png pdf svg; do
  if cmp -s "t/P002.$e" "t2/P002.$e"; then ok; else no "two runs gave different P002.$e"; fi
done
if pdfinfo t/P002.pdf > /dev/null 2>&1; then ok; else no "the PDF is not valid"; fi
if xmllint --noout t/P002.svg 2> /dev/null; then ok; else no "the SVG does not parse"; fi
"$bin" plot map sm/P002.tiles.csv --out d/P002 > /dev/null 2>&1
if [ -s sm/P002.map.png ] || [ -s d/P002.png ]; then ok; else no "no map drawn at the default place"; fi

# each tumour tile, sampled at its centre on the PNG (300 dpi; map box at (10, 10 + 1.8 * 12) pt, 228 pt wide),
# has its call's colour at 85% over white; a legend count per call equal to the table's
$py - w/P002.png sm/P002.tiles.csv > px.out 2>&1 <<'PY'
import csv, sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
rows = list(csv.DictReader(open(sys.argv[2])))
col = {"0": (86, 180, 233), "1+": (240, 228, 66), "2+": (230, 159, 0), "3+": (213, 94, 0)}
nx = max(int(r["ix"]) for r in rows) + 1
ny = max(int(r["iy"]) for r in rows) + 1
tile_um = max(float(r["x_um"]) / int(r["ix"]) for r in rows if int(r["ix"]) > 0)
mw = 360 - 20 - 112.0
ts = mw / nx
s = 300 / 72.0
y0 = 10 + 12 * 1.8
mh = mw * ny / nx
bad = checked = 0
for r in rows:
    if r["tumour"] != "1" or r["ihc_score"] not in col:
        continue
    ix, iy = int(r["ix"]), int(r["iy"])
    cy = y0 + (iy + 0.5) * ts
    if cy > y0 + mh - 40:  # the scale bar's plate, bottom left
        continue
    want = tuple(round(0.85 * c + 0.15 * 255) for c in col[r["ihc_score"]])
    got = im.getpixel((int((10 + (ix + 0.5) * ts) * s), int(cy * s)))
    checked += 1
    if max(abs(a - b) for a, b in zip(got, want)) > 2:
        bad += 1
        print("tile %d,%d (%s): %s on the map, want %s" % (ix, iy, r["ihc_score"], got, want))
print("checked %d tiles, %d wrong; %d calls" % (checked, bad, len(set(r["ihc_score"] for r in rows if r["tumour"] == "1"))))
sys.exit(1 if bad or checked < 4 else 0)
PY
if [ $? -eq 0 ]; then ok; else no "tile colours on the map"; sed 's/^/    /' px.out | tail -5; fi
pdftotext w/P002.pdf - 2> /dev/null | tr -s ' \n' ' ' > legend.txt
for k in 0 1+ 2+ 3+; do
  n=$($py -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if r["tumour"] == "1" and r["ihc_score"] == sys.argv[2]))' sm/P002.tiles.csv "$k")
  word=tiles; [ "$n" = 1 ] && word=tile
  if grep -Fq "$k ($n $word)" legend.txt; then ok; else no "legend: no '$k ($n $word)' in $(cat legend.txt)"; fi
done

# 2. bad input: a missing table, a bad call, an unreadable slide (drawn without thumbnail, said)
"$bin" plot map nope.tiles.csv > e1.log 2>&1
expect "missing table exit" 1 "$?"
has "missing table named" 'nope.tiles.csv' e1.log
sed '2s/,2+,/,4+,/; 2s/,1+,/,4+,/; 2s/,3+,/,4+,/; 2s/,0,1$/,4+,1/' sm/P002.tiles.csv > badcall.tiles.csv
"$bin" plot map badcall.tiles.csv > e2.log 2>&1
expect "bad call exit" 1 "$?"
has "bad call: file and line" 'badcall.tiles.csv:2: ihc_score' e2.log
echo "not a slide" > fake.tif
"$bin" plot map sm/P002.tiles.csv --slide fake.tif --out f/P002 > e3.log 2>&1
expect "unreadable slide exit" 0 "$?"
has "unreadable slide said" 'no thumbnail' e3.log

# 3. the cohort run: every slide's tile table (score's, byte for byte), the gallery's maps in the report
mpirun -np 2 "$bin" run c/manifest.csv --out r -q > r.log 2>&1
expect "run exit" 0 "$?"
for p in P001 P002 P003 P004 P005 P006; do
  if cmp -s "r/maps/$p.tiles.csv" "sm/$p.tiles.csv"; then ok; else no "run's maps/$p.tiles.csv differs from score --map's"; fi
done
if [ -s r/maps/P001.png ] && [ ! -e r/maps/P001.pdf ]; then ok; else no "gallery: not one preview PNG per slide"; fi
has "report shows the gallery" 'id="fig-map-1"' r/report.html
n=$(grep -o 'id="fig-map-[0-9]*"' r/report.html | wc -l)
expect "six maps in the gallery" 6 "$n"
rm -rf ra && mpirun -np 2 "$bin" run c/manifest.csv --out ra -q --maps all --format png,svg > ra.log 2>&1
expect "--maps all exit" 0 "$?"
if [ "$(ls ra/maps/*.png | wc -l)" = 6 ] && [ "$(ls ra/maps/*.svg | wc -l)" = 6 ]; then ok; else no "--maps all: $(ls ra/maps)"; fi
title=$($py -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["patient_id"] == "P003": print("P003: IHC %s, %s" % (r["ihc_score"], r["pattern"]))' ra/slides.csv)
"$bin" plot map ra/maps/P003.tiles.csv --slide c/slides/P003.tif --title "$title" --tile-min-cells 20 --format png,svg --out re/P003 \
  > /dev/null 2>&1
for e in png svg; do
  if cmp -s "ra/maps/P003.$e" "re/P003.$e"; then ok; else no "plot map of the run's table differs from the run's map ($e)"; fi
done
rm -rf rn && "$bin" run c/manifest.csv --out rn -q --maps none > rn.log 2>&1
expect "--maps none exit" 0 "$?"
if [ -e rn/maps ]; then no "--maps none wrote maps/"; else ok; fi
has "--maps none: no gallery" 'No slide maps were drawn' rn/report.html
"$bin" run c/manifest.csv --out rx --maps some > rx.log 2>&1
expect "--maps some refused" 1 "$?"
has "--maps some said" 'gallery, all or none' rx.log

echo "maps: $pass passed, $fail failed"
echo "maps $pass $fail" >> "$tally"
