#!/bin/bash
# scorch diff --flamegraph: a differential flame graph whose frames say both counts and the change in
# share, red where the share grew and blue where it shrank, from folded stacks and from profiles.
. "$(dirname "$0")/lib.bash"

printf 'main;serve;parse 50\nmain;serve;compress 30\nmain;idle 20\n' >"$TMP/base.folded"
printf 'main;serve;parse 60\nmain;serve;compress 100\nmain;idle 40\n' >"$TMP/new.folded"
"$SCORCH" diff "$TMP/base.folded" "$TMP/new.folded" --flamegraph "$TMP/d.svg" >"$TMP/table" ||
	fail "diff --flamegraph failed"
[ -s "$TMP/table" ] || fail "the table is missing when a flame graph is drawn too"
title() { grep -o "<title>$1 ([^<]*</title>" "$TMP/d.svg"; }
# Shares: compress 30% -> 50% (grew), parse 50% -> 30% (shrank), idle 20% -> 20% (same).
title compress | grep -q "30 -> 100 samples, 30.00% -> 50.00%, +20.00 points" || fail "compress: $(title compress)"
title parse | grep -q "50 -> 60 samples, 50.00% -> 30.00%, -20.00 points" || fail "parse: $(title parse)"
title idle | grep -q "+0.00 points" || fail "idle: $(title idle)"
# The frame rectangle follows its title: red for growth, blue for shrinking.
fill() { grep -A2 "<title>$1 (" "$TMP/d.svg" | grep -o 'fill="rgb([0-9,]*)"' | head -1; }
case $(fill compress) in *'rgb(255,'*) ;; *) fail "compress is not red: $(fill compress)" ;; esac
case $(fill parse) in *',255)"') ;; *) fail "parse is not blue: $(fill parse)" ;; esac
note "compress $(fill compress), parse $(fill parse), idle $(fill idle)"

# Scorch profiles on both sides, and an unwritable output: an error, no table, no file.
"$SCORCH" diff "$TMP/fixture.prof" "$TMP/fixture.prof" --flamegraph "$TMP/same.svg" >/dev/null || fail "diff of profiles"
grep -q "+0.00 points" "$TMP/same.svg" || fail "a profile against itself is not unchanged"
if "$SCORCH" diff "$TMP/base.folded" "$TMP/new.folded" --flamegraph "$TMP/nodir/x.svg" >"$TMP/out2" 2>"$TMP/err"; then
	fail "an unwritable flame graph path was accepted"
fi
grep -q "cannot create '$TMP/nodir/x.svg'" "$TMP/err" || fail "unexpected message: $(cat "$TMP/err")"
exit 0
