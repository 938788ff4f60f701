#!/bin/sh
# Tests of DIR/report.html, the cohort run's self-contained page, rendered in headless Chromium (check.py):
# it loads without network and without console errors, every image decodes and every figure is visible on a
# screenshot, absent figures are stated as absent; a page with a script error, a broken image and a blank
# figure is caught; the HTML references nothing outside itself, escapes a hostile patient id, names the failed
# slide and its reason, and is byte-identical from run to run (and rank count to rank count); --no-report
# writes none.  Usage: tests/report/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=report pass=0 fail=0
. "$here/../cohort_checks.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Debian's Python: python3-pil is installed for it (a python3 earlier on PATH may lack PIL)
py=/usr/bin/python3
export HOME="$tmp/home"
mkdir -p "$HOME"
run_np() {
  np=$1 out=$2; shift 2
  if [ "$np" -eq 0 ]; then "$bin" run "$@" --out "$out" > "$out.log" 2>&1; rc=$?
  else mpirun -np "$np" "$bin" run "$@" --out "$out" > "$out.log" 2>&1; rc=$?; fi
}
# check NAME PAGE ARGS...: check.py finds no problem
check() {
  name=$1; shift
  if $py "$here/check.py" "$@" > check.out 2>&1; then ok; else no "$name"; sed 's/^/    /' check.out; fi
}

if ! command -v chromium > /dev/null 2>&1 || ! $py -c 'import PIL' 2> /dev/null; then
  echo "report: chromium or python3-pil missing (make deps)"; echo "report 0 1" >> "$tally"; exit 0
fi
if ! mpirun -np 1 true > /dev/null 2>&1; then
  echo "report: mpirun cannot start here"; echo "report 0 1" >> "$tally"; exit 0
fi
cd "$tmp" || exit 1
"$bin" simulate --patients 24 --seed 7 --size 1024 --out c > /dev/null 2>&1 || no "simulate"
# patient 3: an id that is HTML and a slide that does not exist
$py -c 'import csv
rows = list(csv.reader(open("c/manifest.csv")))
rows[3][0], rows[3][1] = "P<b>&\"3", "slides/missing.tif"
csv.writer(open("c/m.csv", "w", newline=""), lineterminator="\n").writerows(rows)'
# a plot-like drawing, for the broken page of part 3
$py -c 'from PIL import Image, ImageDraw
for name, seed in (("km", 1), ("forest", 2)):
    im = Image.new("RGB", (640, 480), "white"); d = ImageDraw.Draw(im)
    d.line([(60, 20), (60, 420), (620, 420)], fill="black", width=2)
    if name == "km":
        d.polygon([(60, 40), (300, 120), (620, 260), (620, 340), (300, 200), (60, 60)], fill=(200, 220, 255))
        for col, drop in (("red", 30), ("blue", 18)):
            y, pts = 50, []
            for x in range(60, 620, 40):
                pts += [(x, y), (x + 40, y)]; y += drop
            d.line(pts + [(620, y)], fill=col, width=3)
    else:
        for i in range(4):
            y = 80 + 90 * i; d.line([(150 + 20 * i, y), (450 - 15 * i, y)], fill="black", width=3)
            d.rectangle([(290, y - 10), (310, y + 10)], fill=(30, 60, 160))
        d.line([(300, 40), (300, 420)], fill="gray", width=1)
    im.save("%s.png" % name)'
# 1. a run on 2 ranks: the report is written, references nothing outside itself, escapes, names the failure
run_np 2 r c/m.csv --adjust age,grade -q
expect "run exit" 0 "$rc"
has "run says report.html" 'results in r: .*report\.html' r.log
if [ -s r/report.html ] && [ ! -e r/report.html.tmp ]; then ok; else no "no report.html (or its .tmp left)"; fi
if grep -Eiq 'https?:|//[a-z0-9.-]+\.[a-z]{2,}/|<link|@import|url\(' r/report.html; then
  no "the page references something outside itself"; grep -Eio '.{30}(https?:|<link|@import|url\().{30}' r/report.html | head -3
else ok; fi
$py -c 'import re, sys
s = open("r/report.html").read()
refs = re.findall(r"(?:src|href)=\"([^\"]*)\"", s)
bad = [r[:40] for r in refs if not (r.startswith("data:image/png;base64,") or r.startswith("data:image/svg+xml;base64,") or r.startswith("#"))]
sys.exit(1 if bad or not refs else 0)' && ok || no "a src or href that is not a data: URI or a #fragment"
if grep -Fq 'P<b>&"3' r/report.html; then no "the patient id is not escaped"; else ok; fi
has "the patient id escaped" 'P&lt;b&gt;&amp;&quot;3' r/report.html
has "the failed slide and its reason" '<tr class="failed-slide"><td>P&lt;b&gt;&amp;&quot;3</td><td>slides/missing.tif</td><td>c/slides/missing.tif: No such file or directory</td></tr>' r/report.html
has "1 failed counted" '24: 23 scored, 1 failed' r/report.html
has "manifest checksum" "$(sha256sum c/m.csv | cut -c1-64)" r/report.html
has "the Cox term with its HR" '<tr><td>heterogeneous</td>(<td class="n">[^<]*</td>){5}' r/report.html
has "the log-rank test" '<tr><td>logrank</td>' r/report.html
has "HER2 categories" '<h3>HER2 IHC score' r/report.html

# 2. in headless Chromium: no console error, every image decoded, each figure visible, the absent one said
figs="" absent=""
if [ -e r/cohort.png ]; then figs="--figure fig-cohort"; else no "run drew no cohort.png"; fi
for ep in dfs os; do
  for f in km forest; do
    if [ -e "r/$ep/$f.png" ]; then figs="$figs --figure fig-$ep-$f"; else absent="$absent --absent fig-$ep-$f"; fi
  done
done
# the gallery: 23 slides scored, each with its map
has "the gallery's first map" 'id="fig-map-1"' r/report.html
n=$(grep -o 'id="fig-map-[0-9]*"' r/report.html | wc -l)
expect "a map per scored slide in the gallery" 23 "$n"
figs="$figs --figure fig-map-1 --figure fig-map-23"
# shellcheck disable=SC2086
check "report.html in chromium" r/report.html $figs $absent
cat check.out | sed 's/^/report: /'
if [ -z "$absent" ]; then echo "report: every figure was drawn (none absent to check)"; fi

# 3. the checks can fail: a script error, a broken image, a blank (white) image and a good image that is not
#    painted (hidden) are each caught
$py -c 'import base64, io
from PIL import Image
b = io.BytesIO(); Image.new("RGB", (640, 480), "white").save(b, "PNG")
white = base64.b64encode(b.getvalue()).decode()
s = open("r/report.html").read()
extra = ("<figure id=\"fig-broken\"><img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA\" alt=\"\"></figure>"
         "<figure id=\"fig-white\"><img src=\"data:image/png;base64," + white + "\" alt=\"\"></figure>"
         "<figure id=\"fig-hidden\"><img src=\"data:image/png;base64," + base64.b64encode(open("km.png", "rb").read()).decode()
         + "\" alt=\"\" style=\"visibility:hidden\"></figure>"
         "<script>no_such_function();</script>")
open("bad.html", "w").write(s.replace("</body>", extra + "</body>"))'
$py "$here/check.py" bad.html --figure fig-white --figure fig-broken --figure fig-hidden --figure fig-dfs-km > bad.out 2>&1
expect "broken page fails" 1 "$?"
has "script error on the console" '^PROBLEM console message: .*no_such_function' bad.out
has "script error recorded by the page" '^PROBLEM the page recorded [0-9]+ script or resource error' bad.out
has "broken image not decoded" '^PROBLEM image in fig-broken not decoded' bad.out
has "blank image caught" '^PROBLEM fig-white: the image itself is blank' bad.out
has "unpainted figure caught on the screenshot" '^PROBLEM fig-hidden: blank on the screenshot' bad.out
has "broken figure blank on the screenshot" '^PROBLEM fig-broken: blank on the screenshot' bad.out
if grep -q 'fig-dfs-km: blank\|fig-dfs-km: no' bad.out; then no "a good figure failed on the broken page"; else ok; fi

# 4. reproducible: a second run (1 process, no mpirun) gives the same bytes
mv r r1
run_np 0 r c/m.csv --adjust age,grade -q
expect "second run exit" 0 "$rc"
if cmp -s r1/report.html r/report.html; then ok; else no "two runs gave different report.html"; fi

# 5. --no-report writes none; without figures every one is stated as absent
run_np 0 rn c/m.csv --adjust age,grade -q --no-report
expect "--no-report exit" 0 "$rc"
if [ -e rn/report.html ]; then no "--no-report wrote report.html"; else ok; fi
if grep -q 'report.html' rn.log; then no "--no-report still mentions report.html"; else ok; fi
# --no-plots: every figure stated absent, and why
rm -rf rn && run_np 0 rn c/m.csv -q --no-plots
expect "--no-plots exit" 0 "$rc"
has "--no-plots said in the page" 'not drawn \(--no-plots\)' rn/report.html
if [ -e rn/cohort.png ]; then no "--no-plots drew cohort.png"; else ok; fi
check "report.html without figures in chromium" rn/report.html --absent fig-cohort --absent fig-dfs-km --absent fig-dfs-forest \
  --absent fig-os-km --absent fig-os-forest

# 6. --format svg: the SVG figures embedded and shown; --format pdf: said to be beside the page
run_np 0 rs c/m.csv --adjust age,grade -q --format svg
expect "--format svg exit" 0 "$rc"
has "SVG embedded" 'src="data:image/svg\+xml;base64,' rs/report.html
check "report.html with SVG figures in chromium" rs/report.html --figure fig-cohort --figure fig-dfs-km --figure fig-dfs-forest \
  --figure fig-os-km --figure fig-os-forest
run_np 0 rp c/m.csv -q --format pdf
expect "--format pdf exit" 0 "$rc"
has "PDF only said" 'drawn as PDF only' rp/report.html

echo "report: $pass passed, $fail failed"
echo "report $pass $fail" >> "$tally"
