#!/bin/sh
# Figure tests: draws the Kaplan-Meier and forest figures through `hetsurv survival` and
# `hetsurv plot`, then reads them back: PNG size, pdfinfo, xmllint, the at-risk numbers and
# their alignment under the x ticks (pdftotext -bbox-layout; R's summary(fit, times=) when R
# is installed), infinite/aliased Cox terms written as text, and byte-identical files from two
# runs.  Usage: tests/figures/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$2
data=$here/../oracle/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL figures:$1"; fail=$((fail + 1)); }
# t NAME command...: passes when the command succeeds
t() { name=$1; shift; if "$@" > "$tmp/log" 2>&1; then ok; else bad "$name"; sed 's/^/    /' "$tmp/log" | head -20; fi; }

# PNG width and height from its IHDR chunk
png_size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print(*struct.unpack(">II", d[16:24]))' "$1"; }
# the PNG is the PDF's page at 300 dpi: ceil(pt * 300 / 72) pixels
png_matches_pdf() {
  set -- "$1.png" "$1.pdf"
  px=$(png_size "$1") || return 1
  pt=$(pdfinfo "$2" | awk '/^Page size:/ { print $3, $5 }') || return 1
  want=$(echo "$pt" | awk '{ w = $1 * 300 / 72; h = $2 * 300 / 72;
    printf "%d %d", (w == int(w) ? w : int(w) + 1), (h == int(h) ? h : int(h) + 1) }')
  [ "$px" = "$want" ] || { echo "PNG $px, expected $want from the PDF's $pt pt"; return 1; }
}
valid() { # BASE: the three files are valid
  png_matches_pdf "$1" && pdfinfo "$1.pdf" > /dev/null && xmllint --noout "$1.svg"
}
same3() { for e in png pdf svg; do cmp "$1.$e" "$2.$e" || return 1; done; }

# 1. lung, two groups and a covariate: KM with risk table, forest with a reference level
lung="--data $data/lung.csv --time time --event status --group sex --covariates age"
t survival-lung "$bin" survival $lung --time-unit days --out "$tmp/a"
t survival-lung-again "$bin" survival $lung --time-unit days --out "$tmp/b"
for f in km forest; do
  t "$f-valid" valid "$tmp/a/$f"
  t "$f-deterministic" same3 "$tmp/a/$f" "$tmp/b/$f"
done
t km-png-width sh -c "[ \"\$(python3 -c 'import struct; print(struct.unpack(\">I\", open(\"$tmp/a/km.png\",\"rb\").read(24)[16:20])[0])')\" = 2100 ]"
# the results a run saved redraw into the same figures (analysis result and saved files agree)
t plot-km "$bin" plot km "$tmp/a" --time-unit days --out "$tmp/p/km"
t plot-forest "$bin" plot forest "$tmp/a" --out "$tmp/p/forest"
t plot-km-same-as-survival same3 "$tmp/a/km" "$tmp/p/km"
t plot-forest-same-as-survival same3 "$tmp/a/forest" "$tmp/p/forest"

# 2. the risk table: numbers from km.csv's rows by R's rule, centred under the tick labels
pdftotext -bbox-layout "$tmp/a/km.pdf" "$tmp/a/km.html"
rfile=
if command -v Rscript > /dev/null 2>&1; then
  ticks=$(python3 - "$tmp/a/km.html" <<'PY'
import re, sys
w = re.findall(r'yMin="([\d.]+)"[^>]*>([^<]*)</word>', open(sys.argv[1]).read())
ty = [float(y) for y, s in w if s == "Time"][0]
print(",".join(s for y, s in w if ty - 25 < float(y) < ty and re.fullmatch(r"[\d.]+", s)))
PY
)
  Rscript -e "suppressMessages(library(survival)); d <- read.csv('$data/lung.csv');
    f <- survfit(Surv(time, status) ~ sex, d); s <- summary(f, times = c($ticks), extend = TRUE)
    for (g in levels(s\$strata)) cat(s\$n.risk[s\$strata == g], '\n')" > "$tmp/r_nrisk.txt" 2> "$tmp/r.err" \
    && rfile="$tmp/r_nrisk.txt" || { echo "figures: R failed, at-risk compared with km.csv only"; cat "$tmp/r.err"; }
fi
t km-at-risk-aligned python3 "$here/check_km.py" "$tmp/a/km.html" "$tmp/a/km.csv" $rfile
# with --time-break the columns follow the chosen ticks
t plot-km-break "$bin" plot km "$tmp/a" --time-break 180 --format pdf --out "$tmp/brk"
pdftotext -bbox-layout "$tmp/brk.pdf" "$tmp/brk.html"
t km-break-at-risk-aligned python3 "$here/check_km.py" "$tmp/brk.html" "$tmp/a/km.csv"
t km-break-ticks grep -q '>900</word>' "$tmp/brk.html"
# one curve (no group), a --cut group, KMunicate rows
t survival-nogroup "$bin" survival --data "$data/lung.csv" --time time --event status --format pdf --out "$tmp/one"
pdftotext -bbox-layout "$tmp/one/km.pdf" "$tmp/one/km.html"
t km-one-curve-at-risk python3 "$here/check_km.py" "$tmp/one/km.html" "$tmp/one/km.csv"
t kmunicate "$bin" plot km "$tmp/a" --kmunicate --format pdf,svg --out "$tmp/kmu"
t kmunicate-rows sh -c "pdftotext '$tmp/kmu.pdf' - | grep -q '^Censored' && pdftotext '$tmp/kmu.pdf' - | grep -q '^Events'"
t kmunicate-svg xmllint --noout "$tmp/kmu.svg"

# 3. the forest plot writes infinite and aliased terms as words
t survival-infinite "$bin" survival --data "$data/nodeath.csv" --time time --event status --group g --format pdf --out "$tmp/inf"
t cox-has-infinite grep -q ',infinite$' "$tmp/inf/cox.csv"
t forest-infinite-text sh -c "pdftotext '$tmp/inf/forest.pdf' - | grep -q 'infinite coefficient: not estimable'"
awk -F, '$3 != "b"' "$data/nodeath.csv" > "$tmp/nodeath2.csv"   # two groups: the HR goes on the KM plot
t survival-infinite-2 "$bin" survival --data "$tmp/nodeath2.csv" --time time --event status --group g --format pdf --out "$tmp/inf2"
t km-infinite-hr-text sh -c "grep -q '^g=c,.*,infinite$' '$tmp/inf2/cox.csv' && pdftotext '$tmp/inf2/km.pdf' - | grep -q 'not estimable (infinite coefficient)'"
t survival-aliased "$bin" survival --data "$data/factor3.csv" --time time --event status --group sex \
  --covariates level,grade,x1,x1dup --factors grade --format pdf --out "$tmp/ali"
t cox-has-aliased grep -q ',aliased$' "$tmp/ali/cox.csv"
t forest-aliased-text sh -c "pdftotext '$tmp/ali/forest.pdf' - | grep -q 'aliased: not estimable'"
t forest-reference sh -c "pdftotext '$tmp/ali/forest.pdf' - | grep -q '0 (reference)'"

# 5. the cohort figure: a simulated cohort with one slide that fails; the counts on the bars are slides.csv's
#    (per IHC score, per category, per pattern), the histogram's bins are R's hist() and sum to the slides with a
#    value, the cut is labelled, failed slides are in no bar; run's cohort.* equals plot cohort of its slides.csv
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
t simulate-cohort "$bin" simulate --patients 40 --seed 7 --size 1024 --out "$tmp/c"
awk -F, -v OFS=, 'NR == 4 { $2 = "slides/missing.tif" } { print }' "$tmp/c/manifest.csv" > "$tmp/c/m.csv"
"$bin" score --manifest "$tmp/c/m.csv" --out "$tmp/c/s.csv" > "$tmp/log" 2>&1   # exit 1: a slide failed
[ $? -eq 1 ] && grep -q '1 of 40 slides failed' "$tmp/log" && ok || bad score-cohort-one-failed
t score-cohort-table sh -c "[ \$(grep -c '^P003,slides/missing.tif,.*,error,' '$tmp/c/s.csv') = 1 ]"
t plot-cohort "$bin" plot cohort "$tmp/c/s.csv" --table "$tmp/c/flag.csv"
t plot-cohort-default-out valid "$tmp/c/cohort"
pdftotext -bbox-layout "$tmp/c/cohort.pdf" "$tmp/c/flag.html"
t cohort-flag-counts python3 "$here/check_cohort.py" "$tmp/c/flag.html" "$tmp/c/s.csv" "$tmp/c/flag.csv" heterogeneous
t cohort-failed-said grep -q '>failed</word>' "$tmp/c/flag.html"
for m in entropy tile_cv; do
  t "plot-cohort-$m" "$bin" plot cohort "$tmp/c/s.csv" --metric $m --cut 0.5 --out "$tmp/c/$m/a" --table "$tmp/c/$m.csv"
  t "plot-cohort-$m-again" "$bin" plot cohort "$tmp/c/s.csv" --metric $m --cut 0.5 --out "$tmp/c/$m/b"
  t "cohort-$m-valid" valid "$tmp/c/$m/a"
  t "cohort-$m-deterministic" same3 "$tmp/c/$m/a" "$tmp/c/$m/b"
  pdftotext -bbox-layout "$tmp/c/$m/a.pdf" "$tmp/c/$m.html"
  t "cohort-$m-counts-bins-cut" python3 "$here/check_cohort.py" "$tmp/c/$m.html" "$tmp/c/s.csv" "$tmp/c/$m.csv" $m "cut 0.5"
  if command -v Rscript > /dev/null 2>&1; then  # the bins are R's: hist()'s breaks and counts
    Rscript -e "d <- read.csv('$tmp/c/s.csv'); d <- d[d\$status == 'ok', ]; h <- hist(d\$$m, plot = FALSE)
      cat(sprintf('%.10g,%d', h\$breaks[-1], h\$counts), sep = '\n')" > "$tmp/c/$m.r" 2> /dev/null
    awk -F, '$1 == "histogram" { printf "%.10g,%d\n", $5, $3 }' "$tmp/c/$m.csv" > "$tmp/c/$m.ours"
    t "cohort-$m-bins-as-R-hist" cmp "$tmp/c/$m.r" "$tmp/c/$m.ours"
  fi
done
t plot-cohort-optimal "$bin" plot cohort "$tmp/c/s.csv" --metric entropy --cut 0.4649 --cut-optimal --format pdf --out "$tmp/c/opt"
t cohort-optimal-label sh -c "pdftotext -raw '$tmp/c/opt.pdf' - | tr '\n' ' ' | grep -q 'optimal cut 0.465 (maxstat)'"
"$bin" plot cohort "$tmp/c/s.csv" --metric no_such > "$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "^hetsurv plot cohort: .*no column 'no_such'" "$tmp/log" && ok || bad plot-cohort-bad-metric
"$bin" plot cohort "$tmp/c/s.csv" --cut-optimal > "$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "cut-optimal needs --cut" "$tmp/log" && ok || bad plot-cohort-optimal-without-cut
t plot-cohort-help "$bin" plot cohort -h
# the run draws DIR/cohort.* from its rows; plot cohort redraws the same bytes from DIR/slides.csv
t run-cohort sh -c "cd '$tmp/c' && '$bin' run m.csv --out r -q > /dev/null 2>&1"
t run-cohort-valid valid "$tmp/c/r/cohort"
t plot-cohort-from-run "$bin" plot cohort "$tmp/c/r/slides.csv" --out "$tmp/c/rp/cohort"
t run-cohort-same-as-plot same3 "$tmp/c/r/cohort" "$tmp/c/rp/cohort"

# 4. options
t no-plots "$bin" survival $lung --no-plots --out "$tmp/np"
t no-plots-no-files sh -c "! ls '$tmp/np' | grep -q -e png -e pdf -e svg"
t no-plots-same-csv sh -c "for f in km median cox fit tests; do cmp '$tmp/a/'\$f.csv '$tmp/np/'\$f.csv || exit 1; done"
t format-png-only "$bin" survival $lung --format png --out "$tmp/po"
t format-png-only-files sh -c "[ -f '$tmp/po/km.png' ] && [ ! -e '$tmp/po/km.pdf' ] && [ ! -e '$tmp/po/km.svg' ]"
"$bin" survival $lung --format jpg --out "$tmp/x" > "$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "unknown figure format 'jpg'" "$tmp/log" && ok || bad format-bad
"$bin" plot km "$tmp/nothing" > "$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q '^hetsurv plot km: .*km.csv' "$tmp/log" && ok || bad plot-missing-dir
"$bin" plot pie "$tmp/a" > "$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "no such figure: 'pie'" "$tmp/log" && ok || bad plot-bad-figure
t plot-help "$bin" plot km -h

echo "figures $pass $fail" >> "$tally"
echo "figures: $pass passed, $fail failed"
