#!/bin/bash
# The layering rule of src/README.md holds for the tree, and the checker catches an include that
# points back up the pipeline, a file outside any room and a room the rule does not name.
set -u
cd "$(dirname "$0")/../.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

out=$(scripts/check-layers.sh src 2>&1)
if [ $? = 0 ]; then echo "PASS layers: the tree keeps the rule of src/README.md"
else echo "FAIL layers: the tree breaks the rule of src/README.md:"; printf '      %s\n' "$out"; fi

expect() { # expect NAME STATUS PATTERN : run the checker on $T/src
	local name=$1 want=$2 pat=$3 out rc
	out=$(scripts/check-layers.sh "$T/src" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && grep -q -- "$pat" <<<"$out"; then echo "PASS layers: $name"
	else echo "FAIL layers: $name (exit $rc, wanted $want and '$pat'; got: $out)"; fi
}

fresh() { rm -rf "$T/src"; cp -r src "$T/src"; }

fresh
printf '#include "recorder.h"\n' >>"$T/src/base/log.c"
expect "base including capture is refused" 1 "base/log.c:[0-9]* includes capture/recorder.h: room 'base' may not include room 'capture'"

fresh
printf '#include "view.h"\n' >>"$T/src/capture/recorder.c"
expect "capture including present is refused" 1 "room 'capture' may not include room 'present'"

fresh
printf '# include "symbolizer.h" /* spaced */\n' >>"$T/src/unwind/unwinder.c"
expect "a spaced include is checked too" 1 "room 'unwind' may not include room 'symbol'"

fresh
touch "$T/src/stray.c"
expect "a file outside any room is refused" 2 "is in no room"

fresh
mkdir "$T/src/extra" && touch "$T/src/extra/x.c"
expect "a room the rule does not name is refused" 2 "which the rule does not name"

fresh
cp "$T/src/base/log.h" "$T/src/present/log.h"
expect "two headers of one name are refused" 2 "two headers named 'log.h'"
