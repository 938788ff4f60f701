#!/bin/sh
# Scoring checks of make check:
#  1. colour deconvolution against scikit-image's rgb2hed on a real IHC image
#     (Debian python3-skimage's skimage/data/ihc.png, or the copy in ../shared/data);
#  2. accuracy against the truth planted by `hetsurv simulate` (tests/scoring/accuracy.sh).
# Usage: tests/scoring/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
tally=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

img=
for c in "$here/../../../shared/data/ihc-fhl2-colon.png" /usr/lib/python3/dist-packages/skimage/data/ihc.png; do
  [ -f "$c" ] && { img=$c; break; }
done
if [ -z "$img" ] && (cd "$tmp" && apt-get download python3-skimage > /dev/null 2>&1); then
  deb=$(ls "$tmp"/python3-skimage_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] && dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/python3/dist-packages/skimage/data/ihc.png > "$tmp/ihc.png" &&
    img=$tmp/ihc.png
fi
if [ -z "$img" ]; then
  echo "FAIL rgb2hed: no copy of skimage's ihc.png found"; echo "rgb2hed 0 1" >> "$tally"
elif ! /usr/bin/python3 -c 'import skimage' 2> /dev/null; then
  echo "FAIL rgb2hed: python3-skimage is not installed (make deps installs it)"; echo "rgb2hed 0 1" >> "$tally"
else
  echo "rgb2hed: $img"
  dims=$("$build/deconv" "$img" '0.65,0.70,0.29;0.27,0.57,0.78;0.07,0.99,0.11' "$tmp/h.f32" "$tmp/d.f32") &&
    /usr/bin/python3 "$here/rgb2hed.py" "$img" "$tmp/h.f32" "$tmp/d.f32" $dims
  if [ $? -eq 0 ]; then echo "rgb2hed 1 0" >> "$tally"; else echo "FAIL rgb2hed"; echo "rgb2hed 0 1" >> "$tally"; fi
fi

"$here/accuracy.sh" "$build" "$tally"
"$here/vary.sh" "$build" "$tally"
