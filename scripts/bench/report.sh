#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# report.sh - time and peak memory of the commands that read a profile (report, folded, flamegraph,
# export), next to the tools people use for the same job: 'perf script | stackcollapse-perf.pl' and
# flamegraph.pl (when FlameGraph is at hand) and 'pprof -top' on scorch's pprof export.
#
# Usage (from anywhere in the repository; no root needed):
#   scripts/bench/report.sh
#   FLAMEGRAPH_DIR=~/FlameGraph ROUNDS=5 scripts/bench/report.sh
#
# Environment:
#   SAMPLES, STACKS  size of the synthetic profile (default 1000000 samples in 100000 unique stacks,
#                    of up to DEPTH=30 frames over FUNCTIONS=2000 functions)
#   PL_SAMPLES, PL_STACKS  the smaller profile for the Perl comparison (default 100000 and 10000):
#                    its samples are written out as 'perf script' text, one block per sample, for
#                    stackcollapse-perf.pl, and 'scorch folded' reads the same samples
#   ROUNDS           runs of each command; the median is printed (default 3)
#   FLAMEGRAPH_DIR   where stackcollapse-perf.pl and flamegraph.pl are (default: found in PATH)
#   SCORCH, OUT      scorch binary and build directory (default build/scorch, build)
#
# Elapsed time is what a user waits; CPU time (user + system) is what to compare on a busy machine. It
# prints numbers and asserts nothing; the targets (each scorch command under 1 s and 200 MiB on
# the large profile, folded at least 20x faster than stackcollapse-perf.pl) are for the reader to
# check. Needs GNU time (/usr/bin/time, Debian package 'time') for peak memory.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-build}
SCORCH=${SCORCH:-$OUT/scorch}
SYNTH=$OUT/tests/synth
SAMPLES=${SAMPLES:-1000000}
STACKS=${STACKS:-100000}
DEPTH=${DEPTH:-30}
FUNCTIONS=${FUNCTIONS:-2000}
PL_SAMPLES=${PL_SAMPLES:-100000}
PL_STACKS=${PL_STACKS:-10000}
ROUNDS=${ROUNDS:-3}

die() { echo "report.sh: error: $*" >&2; exit 1; }
note() { echo "report.sh: $*" >&2; }

[ -x /usr/bin/time ] || die "needs GNU time for peak memory: apt-get install time"
[ -x "$SCORCH" ] && [ -x "$SYNTH" ] || make --no-print-directory all unit >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

find_tool() {
	if [ -n "${FLAMEGRAPH_DIR:-}" ] && [ -x "$FLAMEGRAPH_DIR/$1" ]; then
		echo "$FLAMEGRAPH_DIR/$1"
	else
		command -v "$1" || true
	fi
}
STACKCOLLAPSE=$(find_tool stackcollapse-perf.pl)
FLAMEGRAPH_PL=$(find_tool flamegraph.pl)
PPROF=${PPROF:-$OUT/tools/pprof}
if [ ! -x "$PPROF" ] && command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/google/pprof ]; then
	mkdir -p "$OUT/tools" "$OUT/gocache"
	GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$PWD/$OUT/gocache go build -o "$PPROF" github.com/google/pprof ||
		note "cannot build pprof"
fi

# measure NAME CMD...: run ROUNDS times; record the median seconds and the largest peak RSS.
results=()
measure() {
	local name=$1 i secs=() cpus=() kb=0 s m u y c
	shift
	for ((i = 0; i < ROUNDS; i++)); do
		/usr/bin/time -f '%e %M %U %S' -o "$TMP/time" bash -c "$1" >/dev/null 2>"$TMP/err" ||
			{ cat "$TMP/err" >&2; die "'$name' failed"; }
		read -r s m u y <"$TMP/time"
		secs+=("$s")
		cpus+=("$(echo "$u + $y" | bc -l)")
		[ "$m" -gt "$kb" ] && kb=$m
	done
	s=$(printf '%s\n' "${secs[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
	c=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
	results+=("$(printf '%-58s %8.2f s %8.2f s %9.1f MiB' "$name" "$s" "$c" "$(echo "$kb / 1024" | bc -l)")")
	echo "$c" >"$TMP/last"
}

note "synthetic profile: $SAMPLES samples, $STACKS unique stacks, depth up to $DEPTH"
"$SYNTH" -o "$TMP/big.prof" --samples "$SAMPLES" --stacks "$STACKS" --depth "$DEPTH" --functions "$FUNCTIONS"
"$SCORCH" export -f pprof -i "$TMP/big.prof" -o "$TMP/big.pb.gz"

measure "scorch report" "'$SCORCH' report -i '$TMP/big.prof'"
measure "scorch report --callers func_1" "'$SCORCH' report -i '$TMP/big.prof' --callers func_1"
measure "scorch folded" "'$SCORCH' folded -i '$TMP/big.prof' -o '$TMP/big.folded'"
measure "scorch flamegraph" "'$SCORCH' flamegraph -i '$TMP/big.prof' -o '$TMP/big.svg'"
measure "scorch export -f pprof" "'$SCORCH' export -f pprof -i '$TMP/big.prof' -o '$TMP/x.pb.gz'"
measure "scorch export -f speedscope" "'$SCORCH' export -f speedscope -i '$TMP/big.prof' -o '$TMP/x.json'"
if [ -x "$PPROF" ]; then
	measure "pprof -top (on scorch's pprof export)" "'$PPROF' -top '$TMP/big.pb.gz'"
else
	note "no pprof: its row is left out"
fi
if [ -n "$FLAMEGRAPH_PL" ]; then
	measure "flamegraph.pl (on scorch folded's output)" "'$FLAMEGRAPH_PL' '$TMP/big.folded' > '$TMP/pl.svg'"
fi
echo
echo "large profile: $SAMPLES samples, $STACKS unique stacks (median of $ROUNDS runs: elapsed, CPU; peak RSS)"
printf '%s\n' "${results[@]}"

# The same samples through stackcollapse-perf.pl: written out as 'perf script' text, one event per
# sample, leaf first (what 'perf script' prints), from scorch's folded stacks.
results=()
"$SYNTH" -o "$TMP/pl.prof" --samples "$PL_SAMPLES" --stacks "$PL_STACKS" --depth "$DEPTH" --functions "$FUNCTIONS" --seed 3
if [ -n "$STACKCOLLAPSE" ]; then
	"$SCORCH" folded -i "$TMP/pl.prof" | awk '{
		n = $NF; sub(/ [0-9]+$/, ""); d = split($0, f, ";");
		for (k = 0; k < n; k++) {
			printf "app 100/100 [000] %d.%06d: cpu-clock:pppH:\n", k / 1000000, k % 1000000;
			for (i = d; i >= 1; i--) printf "\t    %x %s+0x0 (/usr/bin/app)\n", 4096 + i, f[i];
			print "";
		}
	}' >"$TMP/perf-script.txt"
	measure "scorch folded ($PL_SAMPLES samples)" "'$SCORCH' folded -i '$TMP/pl.prof'"
	ours=$(cat "$TMP/last")
	measure "stackcollapse-perf.pl (the same samples as perf script text)" "'$STACKCOLLAPSE' '$TMP/perf-script.txt'"
	theirs=$(cat "$TMP/last")
	# Both must give the same stacks (stackcollapse-perf.pl starts each with the process name).
	"$STACKCOLLAPSE" "$TMP/perf-script.txt" | sed 's/^app;//' | sort >"$TMP/pl.folded"
	"$SCORCH" folded -i "$TMP/pl.prof" | sort >"$TMP/ours.folded"
	cmp -s "$TMP/pl.folded" "$TMP/ours.folded" || note "warning: stackcollapse-perf.pl and scorch folded disagree"
	echo
	echo "the same $PL_SAMPLES samples ($PL_STACKS unique stacks) folded; the perf script text is $(($(stat -c %s "$TMP/perf-script.txt") / 1048576)) MiB,"
	echo "and 'perf script' itself, which would write it from perf.data, is not counted"
	printf '%s\n' "${results[@]}"
	echo "in CPU time, scorch folded is $(echo "$theirs / ($ours + 0.001)" | bc -l | xargs printf '%.0f')x faster"
else
	note "no stackcollapse-perf.pl (set FLAMEGRAPH_DIR to a FlameGraph checkout): the Perl comparison is left out"
fi
