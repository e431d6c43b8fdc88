#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# diff.sh - how long 'scorch diff' takes on two large profiles (target: under 1 s for two profiles of
# a million samples each), next to difffolded.pl (FlameGraph) on the same stacks when it is available.
#
# Usage (from anywhere in the repository; no privileges needed):
#   scripts/bench/diff.sh
#   ROUNDS=5 SAMPLES=1000000 STACKS="1000 100000" DIFFFOLDED=/path/to/difffolded.pl scripts/bench/diff.sh
#
# Environment:
#   ROUNDS      timed runs of each variant (default 5); the median and the minimum are printed
#   SAMPLES     samples per profile (default 1000000)
#   STACKS      distinct stacks per profile, one benchmark per value (default "1000 100000")
#   SCORCH      scorch binary (default build/scorch)
#   SYNTH       synthetic profile writer (default build/tests/synth); both are built with make if missing
#   DIFFFOLDED  difffolded.pl from https://github.com/brendangregg/FlameGraph (default: from PATH;
#               its rows are skipped, with a note, when it is not found)
#
# The profiles come from tests/tools/synth: random call chains over 50 functions, a skewed choice of
# stack per sample, and in the new profile 5% of the samples moved onto one extra stack (--shift 5).
# The folded variants read the same stacks written by 'scorch folded'. It prints numbers and asserts
# nothing; it exits 0 unless something failed to run.

set -euo pipefail

ROUNDS=${ROUNDS:-5}
SAMPLES=${SAMPLES:-1000000}
STACKS=${STACKS:-1000 100000}

die() {
	echo "diff.sh: error: $*" >&2
	exit 1
}
note() { echo "diff.sh: $*" >&2; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$ROUNDS'"
[[ $SAMPLES =~ ^[1-9][0-9]*$ ]] || die "SAMPLES must be a positive integer, not '$SAMPLES'"
for s in $STACKS; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || die "STACKS must hold positive integers, not '$s'"
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCORCH=${SCORCH:-$REPO/build/scorch}
SYNTH=${SYNTH:-$REPO/build/tests/synth}
if [[ ! -x $SCORCH || ! -x $SYNTH ]]; then
	note "building scorch and the test tools"
	make -C "$REPO" all unit >&2 || die "make failed"
fi
DIFFFOLDED=${DIFFFOLDED:-$(command -v difffolded.pl || true)}
if [[ -z $DIFFFOLDED ]]; then
	note "difffolded.pl not found (set DIFFFOLDED): its rows are skipped"
elif ! command -v perl >/dev/null; then
	note "perl not found: the difffolded.pl rows are skipped"
	DIFFFOLDED=
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# time_ms CMD...: run CMD ROUNDS times with stdout to /dev/null; print "median min" in milliseconds.
time_ms() {
	local i t0 t1 times=()
	for ((i = 0; i < ROUNDS; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null || die "failed: $*"
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f\n", v[int((NR + 1) / 2)] / 1000, v[1] / 1000 }'
}

# scorch diff exits 3 when it finds the regression it should find: that is success here.
scorch_diff() {
	"$SCORCH" diff -q "$@" || [[ $? == 3 ]]
}

printf '%-9s %-9s %-52s %10s %10s\n' samples stacks variant "median ms" "min ms"
for stacks in $STACKS; do
	"$SYNTH" -o "$TMP/base.prof" --samples "$SAMPLES" --stacks "$stacks" --seed 1
	"$SYNTH" -o "$TMP/new.prof" --samples "$SAMPLES" --stacks "$stacks" --seed 2 --shift 5
	"$SCORCH" folded -i "$TMP/base.prof" -o "$TMP/base.folded"
	"$SCORCH" folded -i "$TMP/new.prof" -o "$TMP/new.folded"
	scorch_diff --fail-on regression "$TMP/base.prof" "$TMP/new.prof" >/dev/null
	rows=(
		"scorch diff (table, by function)|scorch_diff $TMP/base.prof $TMP/new.prof"
		"scorch diff -f json --metric total|scorch_diff -f json --metric total $TMP/base.prof $TMP/new.prof"
		"scorch diff -f folded (by stack)|scorch_diff -f folded $TMP/base.prof $TMP/new.prof"
		"scorch diff, folded inputs (table)|scorch_diff $TMP/base.folded $TMP/new.folded"
		"scorch diff -f folded, folded inputs|scorch_diff -f folded $TMP/base.folded $TMP/new.folded"
		"scorch diff, 3 runs per side (Welch)|scorch_diff -b $TMP/base.prof -b $TMP/base.prof -b $TMP/base.prof -N $TMP/new.prof -N $TMP/new.prof -N $TMP/new.prof"
	)
	[[ -n $DIFFFOLDED ]] && rows+=("difffolded.pl, folded inputs (peer)|perl $DIFFFOLDED $TMP/base.folded $TMP/new.folded")
	for r in "${rows[@]}"; do
		read -r med min < <(eval "time_ms ${r#*|}")
		printf '%-9s %-9s %-52s %10s %10s\n' "$SAMPLES" "$stacks" "${r%%|*}" "$med" "$min"
	done
	note "$stacks stacks: $(wc -l <"$TMP/base.folded") distinct folded stacks in the base, profile files $(stat -c %s "$TMP/base.prof") and $(stat -c %s "$TMP/new.prof") bytes"
done
