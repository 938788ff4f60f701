#!/bin/sh
# Regression tests of slide decoding (../shared/fuzz-repro/slides_silent, the hardening issue): mutated slides
# once scored status=ok with a changed HER2 call.  Each must now be an error row naming the cause, the good
# slide of the same batch still scored, and the unmutated originals unchanged.  The fuzz files kept here
# (tests/repro/data/silent, < 1 MB) are the TileWidth 65535 mutant and the ten-flipped-bytes JPEG mutant with
# its original; the other kinds (a flipped byte in a 2-level JPEG slide, level-0 width 1, a flipped byte and a
# zeroed 64 KiB in Deflate tiles, Photometric WhiteIsZero) are made again here from simulated slides by
# tests/repro/tiffmut.py, as are truncated files and a missing Photometric tag.
# Usage: tests/repro/decode.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=decode pass=0 fail=0
. "$here/../cohort_checks.sh"
cd "$tmp" || exit 1
mut="/usr/bin/python3 $here/tiffmut.py"
d=$here/data/silent
"$bin" simulate --patients 1 --seed 3 --size 1024 --out c > /dev/null 2>&1 || no "simulate"
"$bin" simulate --patients 1 --seed 5 --size 2048 --out b > /dev/null 2>&1 || no "simulate 2048"
"$bin" simulate --patients 1 --seed 7 --size 1024 --compression deflate --out z > /dev/null 2>&1 || no "simulate deflate"
good=c/slides/P001.tif jpeg2=b/slides/P001.tif defl=z/slides/P001.tif

# score_bad NAME FILE PATTERN: FILE scored beside the good slide: exit 1, an error row for FILE whose message
# matches PATTERN, the good slide's row ok
score_bad() {
  timeout 300 "$bin" score "$2" "$good" --out "$1.csv" > "$1.log" 2>&1
  expect "$1: exit (one slide failed)" 1 "$?"
  has "$1: an error row" "^[^,]*$(basename "$2"),error," "$1.csv"
  has "$1: the cause named" "$3" "$1.csv"
  has "$1: the good slide still scored" "^$good,ok," "$1.csv"
}

# 1. the fuzz files: TileWidth 65535 (61 cells instead of 501 once), ten flipped bytes in a JPEG tile (low read as
#    equivocal once); the original still ok and still 1+ (low), as before the mutation
score_bad tw65535 "$d/A_geom_tw_65535.tif" 'TIFF directory 0: TileWidth 65535 is not plausible: the TIFF specification asks for a multiple of 16'
score_bad jflip10 "$d/J_fliptile_n10_s1.tif" \
  'J_fliptile_n10_s1.tif: 2 of 16 tiles of level 0 could not be decoded, 12.5% of the slide.s area.*Corrupt JPEG data'
timeout 300 "$bin" score "$d/J_jpeg1024b.tif" --out jorig.csv > jorig.log 2>&1
expect "J original: exit" 0 "$?"
has "J original: ok, 1+ low as before" '^[^,]*J_jpeg1024b.tif,ok,(,[^,]*){7},1\+,low,' jorig.csv

# 2. the same kinds made again from simulated slides
$mut flip "$jpeg2" jflip.tif 0 13 10 0
score_bad jpegflip jflip.tif 'of 64 tiles of level 0 could not be decoded, [0-9.]+% of the slide.s area.*JPEG'
$mut settag "$jpeg2" w1.tif 0 256 1
score_bad width1 w1.tif 'TIFF directory 0: TileOffsets has 64 entries, but ImageWidth 1 x ImageLength 2048 in 256 x 256 tiles needs 8'
$mut flip "$defl" dflip.tif 0 10 1 1   # a flip libtiff inflates without a word: only the checksum tells
score_bad deflflip dflip.tif '1 of 16 tiles of level 0 could not be decoded, 6.2% of the slide.s area.*tile 10 .*Deflate'
$mut zero "$defl" dzero.tif 0 5
score_bad deflzero dzero.tif '1 of 16 tiles of level 0 could not be decoded, 6.2% of the slide.s area.*tile 5 .*Deflate'
$mut settag "$defl" photo0.tif 0 262 0
score_bad photo0 photo0.tif 'TIFF directory 0: Photometric is WhiteIsZero \(0\); an RGB brightfield slide needs RGB \(2\) or YCbCr \(6\)'
$mut settag "$defl" tw65535.tif 0 322 65535
score_bad tw65535b tw65535.tif 'TileWidth 65535 is not plausible'
# the unmutated simulated slides still score
timeout 300 "$bin" score "$jpeg2" "$defl" --out orig.csv > orig.log 2>&1
expect "originals: exit" 0 "$?"
has "2048 JPEG original ok" "^$jpeg2,ok," orig.csv
has "Deflate original ok" "^$defl,ok," orig.csv

# 3. truncated files say so, with the sizes, not "TIFFFetchDirectory: Can not read TIFF directory count"
head -c 5000 "$good" > t5000.tif
score_bad trunc5000 t5000.tif 't5000.tif: the file is truncated: it has 5000 bytes, but TIFF directory 0 starts at byte [0-9]+'
head -c 4 "$good" > t4.tif
score_bad trunc4 t4.tif 'the file is truncated: it has 4 bytes, less than a TIFF header'
size=$(wc -c < "$good")
head -c $((size - 40)) "$good" > tail.tif
score_bad trunctail tail.tif "the file is truncated: it has $((size - 40)) bytes, but"
#    a directory written before the data (as some converters do), cut in the middle of tile 9's data
$mut ifdfirst "$defl" first.tif
timeout 300 "$bin" score first.tif --out first.csv > first.log 2>&1
expect "directory first: the uncut file scores" 0 "$?"
$mut cut first.tif firstcut.tif 0 9
score_bad truncdata firstcut.tif 'the file is truncated: it has [0-9]+ bytes, but the data of tile 9 of TIFF directory 0 end at byte [0-9]+ \(7 of its 16 tiles lie beyond the end of the file\)'
if grep -q 'Can not read TIFF directory count' ./*.csv; then no "libtiff's 'Can not read TIFF directory count' still shown"; else ok; fi

# 4. a missing tag by name, not "Cannot get required TIFF tag: 262"
$mut retag "$good" nophoto.tif 0 262 263
score_bad nophoto nophoto.tif 'Photometric \(tag 262\) missing'
if grep -q 'TIFF tag: 262' nophoto.csv; then no "nophoto: the bare tag number still shown"; else ok; fi

# 5. an entry stating more values than the file holds never reaches OpenSlide: a 3,840-byte fuzz input whose
#    ImageDescription states 4,294,770,745 bytes made OpenSlide's vendor detection allocate 4.3 GB
cp "$here/../fuzz/regress/slide/imagedescription_count_4.3e9.tif" desc43.tif
score_bad desc43 desc43.tif 'desc43.tif: [^"]*ImageDescription \(tag 270\)[^"]*4294770745'

echo "decode: $pass passed, $fail failed"
echo "decode $pass $fail" >> "$tally"
