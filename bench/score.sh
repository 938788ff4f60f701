#!/bin/sh
# make bench, scoring part: throughput of `hetsurv score` on large simulated
# slides against the physical floors measured in the same run (decoding every
# level-0 tile on one thread, with libtiff and with OpenSlide), and peak
# memory at two slide sizes.
# Targets: scoring time <= 1.5x the libtiff decode time (the old target was
# <= 2x OpenSlide's); peak memory <= 256 MB whatever the slide size.
set -e
build=${1:-build}
sizes=${BENCH_SLIDE_SIZES:-"10000 20000"}
work=$build/bench/slides
mkdir -p "$work"
for size in $sizes; do
  dir=$work/s$size
  [ -s "$dir/slides/P001.tif" ] || "$build/hetsurv" simulate --patients 1 --seed 7 --size "$size" --out "$dir" > /dev/null
  slide=$dir/slides/P001.tif
  echo "== scoring: ${size}x${size} simulated slide (JPEG tiles, 0.5 um/px), one process"
  "$build/slide_decode" --libtiff "$slide" 0 | tee "$work/decode-libtiff.$size"
  "$build/slide_decode" "$slide" 0 | tee "$work/decode-openslide.$size"
  /usr/bin/time -f '%e %U %M' -o "$work/score.$size.time" "$build/hetsurv" score "$slide" > "$work/score.$size.csv"
  lib=$(sed -E 's/.*: ([0-9.]+) s,.*/\1/' "$work/decode-libtiff.$size")
  osd=$(sed -E 's/.*: ([0-9.]+) s,.*/\1/' "$work/decode-openslide.$size")
  read -r sec user kb < "$work/score.$size.time"
  awk -v s="$sec" -v u="$user" -v l="$lib" -v o="$osd" -v kb="$kb" -v n="$size" 'BEGIN {
    mp = n * n / 1e6
    printf "hetsurv score: %.2f s wall, %.2f s CPU: %.1f megapixels/s per core\n", s, u, mp / u
    printf "score/libtiff-decode time ratio: %.2f (target <= 1.5: %s)\n", s / l, (s / l <= 1.5 ? "met" : "NOT MET")
    printf "score/openslide-decode time ratio: %.2f (old target <= 2: %s)\n", s / o, (s / o <= 2 ? "met" : "NOT MET")
    printf "peak memory: %.0f MB (target <= 256 MB: %s)\n", kb / 1024, (kb / 1024 <= 256 ? "met" : "NOT MET")
  }'
  sed -n 2p "$work/score.$size.csv" | cut -d, -f1,4-12
done
