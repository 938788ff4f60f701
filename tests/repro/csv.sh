#!/bin/sh
# Regression tests of the table readers (../shared/fuzz-repro, the hardening issue, findings 3 and 7, and the
# messages of every reader that goes through cohorts/csvread.c: manifest, survival table, controls file, QuPath
# export).  A 1e6-column header once took minutes (quadratic duplicate-name checks): now a header is bounded
# (1e5 columns) and checked in linear time.  QuPath exports with a centroid of 1e300 um, a control byte in a
# number or a 100k-byte image name were accepted with odd values or messages cut before their reason: now each
# bad row makes its image status=error with a message naming file, line and column, the other images scored
# as in a clean export.  CSV errors are said in the user's words (no libcsv jargon), control bytes of the file
# are escaped, and a header in UTF-16 or with a second byte-order mark is said to be so.
# Usage: tests/repro/csv.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=csvin pass=0 fail=0
. "$here/../cohort_checks.sh"
cd "$tmp" || exit 1
d=$here/data
req=patient_id,slide,dfs_time,dfs_event,os_time,os_event
# lacks NAME PATTERN FILE: no line of FILE matches
lacks() { if grep -Eq -- "$2" "$3"; then no "$1: a line matches '$2' in $(basename "$3")"; else ok; fi; }
# no_ctl NAME FILE: FILE holds no control byte but tab and newline
no_ctl() { if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$2"; then no "$1: a raw control byte"; else ok; fi; }
# timed NAME SECONDS CMD...: runs CMD (output to out.log) and fails when it takes longer; sets rc
timed() {
  name=$1 limit=$2; shift 2
  timeout "$limit" "$@" > out.log 2>&1
  rc=$?
  if [ "$rc" -eq 124 ]; then no "$name: still running after $limit s"; else ok; fi
}

# ---- 1. wide headers: bounded, and linear up to the bound ----
# the fuzz file's shape: 9 manifest columns then c0..c999999 (1e6+9 columns), two rows
python3 - <<'PY'
n = 1000000
with open("cols1e6.csv", "w") as f:
    f.write("patient_id,slide,dfs_time,dfs_event,os_time,os_event,age,grade,ish," +
            ",".join("c%d" % i for i in range(n)) + "\n")
    f.write("P001,slides/P001.tif,25.59,0,25.59,0,44,2,NA\nP002,slides/P002.tif,10.86,1,10.86,1,53,2,positive\n")
# at the bound: 1e5 columns, column 100000 repeating column 7's name
m = 100000
names = ["patient_id", "slide", "dfs_time", "dfs_event", "os_time", "os_event"] + ["c%d" % i for i in range(m - 6)]
names[-1] = "c0"
rows = "".join(",".join(["P%d" % r, "s.tif", "5", "1", "6", "0"] + ["1"] * (m - 6)) + "\n" for r in range(3))
open("cols1e5dup.csv", "w").write(",".join(names) + "\n" + rows)
names[-1] = "last"
open("cols1e5.csv", "w").write(",".join(names) + "\n" + rows)
PY
timed "1e6 columns: validate" 10 "$bin" validate cols1e6.csv --no-slide-check
expect "1e6 columns: validate exit" 1 "$rc"
has "1e6 columns: said, naming the first column past the bound" \
  '^hetsurv validate: cols1e6.csv:1:100001: more than 100000 fields in one record' out.log
timed "1e6 columns: survival" 10 "$bin" survival --data cols1e6.csv --time os_time --event os_event --out s6
expect "1e6 columns: survival exit" 1 "$rc"
has "1e6 columns: survival says so" 'cols1e6.csv:1:100001: more than 100000 fields' out.log
timed "the fuzz file itself" 10 "$bin" validate /work/shared/fuzz-repro/msim/M_cols_1e6_hdr.csv --no-slide-check
if [ -f /work/shared/fuzz-repro/msim/M_cols_1e6_hdr.csv ]; then
  has "the fuzz file: bounded" 'M_cols_1e6_hdr.csv:1:100001: more than 100000 fields' out.log; fi
# 1e5 columns took 14.6 s with quadratic checks; linear checks take well under a second
timed "1e5 columns: validate" 5 "$bin" validate cols1e5.csv --no-slide-check
expect "1e5 columns: valid" 0 "$rc"
has "1e5 columns: read whole" 'cols1e5.csv: 3 patients, 99994 covariates, 0 errors, 0 warnings: valid' out.log
timed "1e5 columns, a duplicate: validate" 5 "$bin" validate cols1e5dup.csv --no-slide-check
expect "1e5 columns, a duplicate: exit" 1 "$rc"
has "1e5 columns: the duplicate named with its first column" \
  "^cols1e5dup.csv:1:100000: duplicate column name 'c0' \\(also column 7\\)" out.log
timed "1e5 columns, a duplicate: survival" 5 "$bin" survival --data cols1e5dup.csv --time os_time --event os_event --out s5
expect "1e5 columns, a duplicate: survival exit" 1 "$rc"
has "1e5 columns: survival names the duplicate" \
  "cols1e5dup.csv:1:100000: duplicate column name 'c0' \\(also column 7\\)" out.log
# a column name longer than 1 KiB
{ printf '%s,' "$req"; head -c 1100 /dev/zero | tr '\0' n; printf '\nP1,s.tif,1,0,2,1,3\n'; } > longname.csv
"$bin" validate longname.csv --no-slide-check > out.log 2>&1
expect "long column name: exit" 1 "$?"
has "long column name: bound named" "^hetsurv validate: longname.csv:1:7: a column name of 1100 bytes \\(at most 1024\\): 'nnnn.*\\.\\.\\.'$" out.log

# ---- 2. QuPath exports: each bad row makes its image an error, the others scored as in a clean export ----
# the clean export the three mutants came from: Q_flip1_s3 with its flipped byte (0x14 for '6') restored
LC_ALL=C sed '120s/\x14/6/' "$d/Q_flip1_s3.tsv" > Q_clean.tsv
cmp -s Q_clean.tsv "$d/Q_flip1_s3.tsv" && no "clean export: the flipped byte was not restored"
"$bin" score --qupath Q_clean.tsv --out clean.csv > clean.log 2>&1
expect "clean export: exit" 0 "$?"
has "clean export: P001 ok" '^P001.svs,ok,' clean.csv
has "clean export: P002 ok" '^P002.svs,ok,' clean.csv
# same_row NAME IMAGE OUT.csv: IMAGE's row is byte-identical to the clean export's
same_row() {
  a=$(grep "^$2," clean.csv) b=$(grep "^$2," "$3")
  if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else no "$1: $2's row differs from the clean export's"; fi
}
# (a) a centroid of 1e300 um on line 5 (P001)
"$bin" score --qupath "$d/Q_x_huge.tsv" --out xh.csv > xh.log 2>&1
expect "x 1e300: exit" 1 "$?"
has "x 1e300: named in the table" \
  "^P001.svs,error,.*Q_x_huge.tsv:5:5: column 'Centroid X µm': 1e300 µm from the image origin is beyond 200000 µm" xh.csv
has "x 1e300: and on stderr" "Q_x_huge.tsv:5:5: column 'Centroid X µm': 1e300 µm" xh.log
lacks "x 1e300: no 300-digit number" '[0-9]{40}' xh.log
same_row "x 1e300" P002.svs xh.csv
# (b) a control byte 0x14 in a number on line 120 (P002)
"$bin" score --qupath "$d/Q_flip1_s3.tsv" --out fl.csv > fl.log 2>&1
expect "flipped byte: exit" 1 "$?"
has "flipped byte: escaped, named" \
  "^P002.svs,error,.*Q_flip1_s3.tsv:120:6: column 'Centroid Y µm': not a finite number: '\\\\x147.841954'" fl.csv
no_ctl "flipped byte: stderr" fl.log
no_ctl "flipped byte: table" fl.csv
same_row "flipped byte" P001.svs fl.csv
# (c) a 100000-byte image name on line 5: its row an error, cut, with the reason; the map not written for it
"$bin" score --qupath "$d/Q_image_long.tsv" --out il.csv --map ilmap > il.log 2>&1
expect "long image name: exit" 1 "$?"
has "long image name: the reason kept" \
  "Q_image_long.tsv:5:1: an image name of 100000 bytes \\(at most 1024\\): 'I{60}\\.\\.\\.'$" il.log
has "long image name: its row an error, the name cut" "^I{60}\\.\\.\\.,error,.*an image name of 100000 bytes" il.csv
if [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' il.log il.csv)" -lt 1000 ]; then ok
else no "long image name: a line of 1000 bytes or more"; fi
# the mutant's line 5 was one of P001's cells: P001 as in the clean export without that line
sed 5d Q_clean.tsv > Q_clean5.tsv && "$bin" score --qupath Q_clean5.tsv --out clean5.csv > /dev/null 2>&1
a=$(grep '^P001.svs,' clean5.csv) b=$(grep '^P001.svs,' il.csv)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else no "long image name: P001's row differs from the clean export's"; fi
same_row "long image name" P002.svs il.csv
expect "long image name: maps of the good images only" "P001.svs.tiles.csv P002.svs.tiles.csv" "$(ls ilmap | tr '\n' ' ' | sed 's/ $//')"
# (d) a map that cannot be written makes the row an error, not ok
# (a folder where the map file goes: root writes through any mode bits, not over a folder)
mkdir -p ro/P001.svs.tiles.csv
"$bin" score --qupath Q_clean.tsv --out ro.csv --map ro > ro.log 2>&1
expect "unwritable map: exit" 1 "$?"
has "unwritable map: row an error" '^P001.svs,error,' ro.csv
mkdir -p nodir && "$bin" score --qupath Q_clean.tsv --out nd.csv --map nodir/x/y > nd.log 2>&1
nd=$?
if [ -d nodir/x/y ]; then ok; else
  expect "map folder cannot be made: exit" 1 "$nd"
  lacks "map folder cannot be made: no row says ok" ',ok,' nd.csv
fi
# (e) an OD that is no optical density (an intensity 0-255)
printf 'Image\tCentroid X µm\tCentroid Y µm\tCell: DAB OD mean\tMembrane: DAB completeness\nA\t10\t10\t0.5\t0.9\nB\t10\t10\t187\t0.9\n' > od.tsv
"$bin" score --qupath od.tsv --out od.csv > od.log 2>&1
expect "OD 187: exit" 1 "$?"
has "OD 187: named" "^B,error,.*od.tsv:3:4: column 'Cell: DAB OD mean': 187 is not a plausible DAB optical density" od.csv
has "OD 187: the other image ok" '^A,ok,' od.csv

# ---- 3. messages of every reader: CSV errors in words, control bytes escaped, UTF-16 and a second BOM said ----
printf '%s\nP1,s.tif,1,0,2,"1\nP2,s.tif,1,0,2,1\n' "$req" > uq.csv
printf '%s\nP1,s.t"if,1,0,2,1\n' "$req" > sq.csv
printf '%s\nP1,"s.tif"x,1,0,2,1\n' "$req" > aq.csv
printf '%s\nP1,s.tif,1\001,0,2,1\n' "$req" > ctl.csv
printf '\357\273\277\357\273\277%s\nP1,s.tif,1,0,2,1\n' "$req" > bom2.csv
python3 -c "
t = '$req\nP1,s.tif,1,0,2,1\n'
open('u16le.csv', 'wb').write(b'\xff\xfe' + t.encode('utf-16-le'))
open('u16be.csv', 'wb').write(b'\xfe\xff' + t.encode('utf-16-be'))
open('u16nobom.csv', 'wb').write(t.encode('utf-16-le'))
"
# check_msgs LABEL CMD...: CMD FILE for each file above (CMD's own arguments around FILE via the {} placeholder)
check_msgs() {
  label=$1; shift
  for f in uq sq aq bom2 u16le u16be u16nobom; do
    cmd=""
    for a in "$@"; do if [ "$a" = "{}" ]; then cmd="$cmd $f.csv"; else cmd="$cmd $a"; fi; done
    # shellcheck disable=SC2086
    $cmd > "$label.$f.log" 2>&1
    expect "$label $f: exit" 1 "$?"
    lacks "$label $f: no libcsv jargon" 'strict checking|error parsing data' "$label.$f.log"
    lacks "$label $f: not a missing-column complaint" "missing required column|no column named" "$label.$f.log"
  done
  has "$label: unterminated quote" 'uq.csv:2:6: malformed CSV: unterminated quoted field starting at line 2' "$label.uq.log"
  has "$label: quote inside an unquoted field" 'sq.csv:2:2: malformed CSV: a quote inside an unquoted field .*near: P1,s.t"if,1,0,2,1$' "$label.sq.log"
  has "$label: text after a closing quote" 'aq.csv:2:2: malformed CSV: text after the closing quote of a quoted field' "$label.aq.log"
  has "$label: second BOM" 'bom2.csv:1: a second byte-order mark \(EF BB BF EF BB BF\)' "$label.bom2.log"
  has "$label: UTF-16 LE" 'u16le.csv:1: the header is UTF-16 \(byte-order mark FF FE\); save it as UTF-8' "$label.u16le.log"
  has "$label: UTF-16 BE" 'u16be.csv:1: the header is UTF-16 \(byte-order mark FE FF\); save it as UTF-8' "$label.u16be.log"
  has "$label: UTF-16 without a mark" 'u16nobom.csv:1: the header is UTF-16 \(a NUL byte between its characters, little-endian\)' "$label.u16nobom.log"
}
check_msgs validate "$bin" validate {} --no-slide-check
check_msgs survival "$bin" survival --data {} --time os_time --event os_event --out sv
check_msgs manifest "$bin" score --manifest {} --out sm.csv
"$bin" validate ctl.csv --no-slide-check > ctl.log 2>&1
expect "control byte in a manifest: exit" 1 "$?"
has "control byte in a manifest: escaped" "ctl.csv:2:3: dfs_time: not a number: '1\\\\x01'" ctl.log
no_ctl "control byte in a manifest" ctl.log
"$bin" survival --data ctl.csv --time dfs_time --event os_event --out sv > ctl2.log 2>&1
expect "control byte in a survival table: exit" 1 "$?"
has "control byte in a survival table: escaped" "ctl.csv:2:3: column 'dfs_time': not a number: '1\\\\x01'" ctl2.log
no_ctl "control byte in a survival table" ctl2.log
# QuPath exports: the same header troubles and quotes, tab-separated
python3 -c "
t = 'Image\tClass\tCentroid X \u00b5m\tCentroid Y \u00b5m\nA\t1+\t1\t1\n'
open('q16.tsv', 'wb').write(b'\xff\xfe' + t.encode('utf-16-le'))
open('qbom2.tsv', 'wb').write(b'\xef\xbb\xbf\xef\xbb\xbf' + t.encode())
open('qq.tsv', 'wb').write((t + 'A\t\"1+\t1\t1\n').encode())
open('qctl.tsv', 'wb').write((t + 'A\t1\x1b[31m+\t1\t1\n').encode())
"
for x in "q16:1: the header is UTF-16 \\(byte-order mark FF FE\\)" "qbom2:1: a second byte-order mark" \
         "qq:3:2: malformed CSV: unterminated quoted field starting at line 3"; do
  f=${x%%:*}
  "$bin" score --qupath "$f.tsv" --out "$f.csv" > "$f.log" 2>&1
  expect "QuPath $f: exit" 1 "$?"
  has "QuPath $f: said" "$f.tsv:${x#*:}" "$f.log"
  lacks "QuPath $f: no libcsv jargon" 'strict checking|error parsing data' "$f.log"
done
"$bin" score --qupath qctl.tsv --out qctl.csv > qctl.log 2>&1
expect "QuPath escape sequence in a class: exit" 1 "$?"
has "QuPath escape sequence in a class: escaped" "qctl.tsv:3:2: unknown class '1\\\\x1B\\[31m\\+'" qctl.log
no_ctl "QuPath escape sequence in a class: stderr" qctl.log
no_ctl "QuPath escape sequence in a class: table" qctl.csv
# controls file (score --calibration controls): the same header troubles, and a control byte in a class
"$bin" simulate --patients 1 --seed 5 --size 512 --out sim > /dev/null 2>&1 || no "simulate"
slide=sim/slides/P001.tif
ch=batch,slide,class,x0_um,y0_um,x1_um,y1_um
printf '\357\273\277\357\273\277%s\nb,%s,2+,0,0,50,50\n' "$ch" "$slide" > cbom2.csv
printf '%s\nb,%s,2\033+,0,0,50,50\n' "$ch" "$slide" > cctl.csv
printf '%s\nb,"%s,2+,0,0,50,50\n' "$ch" "$slide" > cuq.csv
python3 -c "open('c16.csv', 'wb').write(b'\xff\xfe' + '$ch\nb,$slide,2+,0,0,50,50\n'.encode('utf-16-le'))"
for x in "cbom2:1: a second byte-order mark" "c16:1: the header is UTF-16" \
         "cuq:2:2: malformed CSV: unterminated quoted field starting at line 2" "cctl:2:3: class: '2\\\\x1B\\+' is not"; do
  f=${x%%:*}
  "$bin" score "$slide" --calibration controls --controls "$f.csv" --out "$f.out.csv" > "$f.log" 2>&1
  expect "controls $f: exit" 1 "$?"
  has "controls $f: said" "$f.csv:${x#*:}" "$f.log"
  lacks "controls $f: no libcsv jargon" 'strict checking|error parsing data|missing required column' "$f.log"
  no_ctl "controls $f" "$f.log"
done

# slide paths and batch names holding control bytes (from a manifest or a file name) are escaped in messages
esc=$(printf 'sl\033[31mred\tx.tif')
printf 'not a slide' > "$esc"
"$bin" score "$esc" "$(printf 'missing\033]0;title\007.tif')" --out esc.csv > esc.log 2>&1
expect "control bytes in slide paths: exit" 1 "$?"
has "control bytes in slide paths: the path escaped" 'sl\\x1B\[31mred\\tx.tif' esc.log
has "control bytes in slide paths: a missing one escaped" 'missing\\x1B\]0;title\\x07.tif' esc.log
no_ctl "control bytes in slide paths" esc.log
printf 'patient_id,slide,dfs_time,dfs_event,os_time,os_event,batch\nP1,%s,10,1,12,0,%s\n' "$slide" \
  "$(printf 'b\033[2J')" > escm.csv
"$bin" score --manifest escm.csv --out escm.out.csv > escm.log 2>&1
has "control bytes in a batch name: escaped" "batch 'b\\\\x1B\\[2J'" escm.log
no_ctl "control bytes in a batch name" escm.log

echo "csvin: $pass passed, $fail failed"
echo "csvin $pass $fail" >> "$tally"
