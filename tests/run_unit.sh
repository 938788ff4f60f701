#!/bin/sh
# Runs one CUnit binary, echoes its output, and appends its "N passed, N failed"
# tally (as "NAME P F") to the tally file.  A crash counts as one failure.
bin=$1 name=$2 tally=$3
out=$("$bin" 2>&1); rc=$?
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep -E '^unit: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
if [ -z "$line" ]; then
  echo "$name: no tally (exit $rc)"; echo "$name 0 1" >> "$tally"; exit 0
fi
p=$(echo "$line" | sed -E 's/^unit: ([0-9]+) passed.*/\1/')
f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "$name $p $f" >> "$tally"
