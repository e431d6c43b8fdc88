#!/bin/bash
# Python frames (issue 17), measured next to austin (a CPython frame sampler). Prints, asserts nothing:
#
#   1. agreement: the leaf Python function's share of the CPU samples in work_a/work_b/work_c of
#      tests/workloads/py_split.py (designed 60/30/10), by scorch and by austin (-s: CPU time only),
#      and the largest difference;
#   2. slowdown: a fixed amount of Python work (a recursion, a loop, a generator, sorted with a key,
#      hashlib), its own elapsed and CPU time (measured inside, so start-up is not counted) alone,
#      under scorch record (with and without --no-python) and under austin, at 99 and 999 Hz (austin
#      -i 10101us / 1001us), medians of ROUNDS;
#   3. BPF cost: the sampler program's run time per sample (kernel.bpf_stats_enabled) while recording
#      the workload with and without --no-python; the difference is the Python walk's.
#
#   sudo scripts/bench/python.sh                       # about 3 minutes
#   sudo ROUNDS=5 PY=/root/.pyenv/versions/3.12.1/bin/python3.12 scripts/bench/python.sh
#
# Environment: PY (default /usr/bin/python3.11), ROUNDS (3), SCORCH (build/scorch), AUSTIN (an austin
# binary; else 'austin' in PATH; else built from AUSTIN_SRC, a checkout of github.com/P403n1x87/austin,
# into build/austin with autotools). austin's code is never part of this repository: without it, its
# columns say NOT MEASURED.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
SCORCH=${SCORCH:-$ROOT/build/scorch}
PY=${PY:-/usr/bin/python3.11}
ROUNDS=${ROUNDS:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ "$(id -u)" = 0 ] || { echo "python.sh: run as root (BPF recording, bpf_stats)" >&2; exit 1; }
[ -x "$SCORCH" ] || { echo "python.sh: no $SCORCH: run make first" >&2; exit 1; }
[ -x "$PY" ] || { echo "python.sh: no $PY" >&2; exit 1; }

find_austin() {
	if [ -n "${AUSTIN:-}" ] && [ -x "$AUSTIN" ]; then
		echo "$AUSTIN"
	elif command -v austin >/dev/null; then
		command -v austin
	elif [ -x "$ROOT/build/austin/src/austin" ]; then
		echo "$ROOT/build/austin/src/austin"
	elif [ -n "${AUSTIN_SRC:-}" ] && [ -d "$AUSTIN_SRC" ] && command -v autoreconf >/dev/null; then
		rm -rf "$ROOT/build/austin" && mkdir -p "$ROOT/build/austin" &&
			cp -r "$AUSTIN_SRC"/. "$ROOT/build/austin" &&
			(cd "$ROOT/build/austin" && autoreconf --install && ./configure && make -C src austin) \
				>"$TMP/austin-build.log" 2>&1
		[ -x "$ROOT/build/austin/src/austin" ] && echo "$ROOT/build/austin/src/austin"
	fi
}
AUSTIN_BIN=$(find_austin)
if [ -n "$AUSTIN_BIN" ]; then
	echo "# austin: $AUSTIN_BIN ($("$AUSTIN_BIN" --version 2>&1 | head -1))"
else
	echo "# austin: NOT MEASURED (not found: set AUSTIN=/path/to/austin, or AUSTIN_SRC=/path/to/a/checkout with autoconf and automake installed)"
fi
echo "# python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])')), $(nproc) CPUs, rounds $ROUNDS"
busy=$(awk '{ print int($1 + 0.5) }' /proc/loadavg)
[ "$busy" -ge 1 ] && echo "# warning: load average $(cut -d' ' -f1 /proc/loadavg): other work on the CPUs makes these numbers noisy"

# --- 1. agreement -----------------------------------------------------------------------------------
W=$ROOT/tests/workloads/py_split.py
echo
echo "## leaf shares in work_a/work_b/work_c (designed 60/30/10)"
"$SCORCH" record -q -F 999 -o "$TMP/split.prof" -- "$PY" "$W" 6 >/dev/null 2>&1
"$SCORCH" folded --python-only -i "$TMP/split.prof" |
	awk '{ n = split($1, f, ";"); leaf = f[n]; if (leaf ~ /^work_[abc]$/) s[leaf] += $NF } END { for (k in s) print k, s[k] }' >"$TMP/scorch.leaf"
if [ -n "$AUSTIN_BIN" ]; then
	"$AUSTIN_BIN" -s -i 1001us -o "$TMP/austin.out" "$PY" "$W" 6 >/dev/null 2>&1
	# "P;T;file:function:line;... metric": the leaf's function is the last frame's second field from the end.
	awk '!/^#/ && NF { m = $NF; $NF = ""; n = split($0, f, ";"); k = split(f[n], g, ":"); leaf = g[k - 1]; if (leaf ~ /^work_[abc]$/) s[leaf] += m } END { for (k in s) print k, s[k] }' \
		"$TMP/austin.out" >"$TMP/austin.leaf"
fi
awk -v have_austin="${AUSTIN_BIN:+1}" '
	FNR == 1 { file++ }
	file == 1 { sc[$1] = $2; st += $2 }
	file == 2 { au[$1] = $2; at += $2 }
	END {
		printf "%-8s %10s %10s %8s\n", "function", "scorch %", "austin %", "diff"
		for (i = 0; i < 3; i++) {
			k = "work_" substr("abc", i + 1, 1)
			s = st ? 100 * sc[k] / st : 0
			if (have_austin && at) {
				a = 100 * au[k] / at; d = s - a; if (d < 0) d = -d; if (d > md) md = d
				printf "%-8s %10.1f %10.1f %8.1f\n", k, s, a, d
			} else {
				printf "%-8s %10.1f %10s %8s\n", k, s, "NOT MEASURED", "-"
			}
		}
		if (have_austin && at) printf "largest difference: %.1f points\n", md
	}' "$TMP/scorch.leaf" "${AUSTIN_BIN:+$TMP/austin.leaf}" 2>/dev/null

# --- 2. slowdown ------------------------------------------------------------------------------------
cat >"$TMP/fixed.py" <<'EOF'
import hashlib, sys, time
def rec(n):
    return rec(n - 1) + 1 if n else 0
def gen(n):
    for i in range(n):
        yield i
def key(x):
    return -x
t, c = time.perf_counter(), time.process_time()
s = 0
for r in range(int(sys.argv[1])):
    s += rec(50) + sum(gen(300)) + len(sorted(range(300), key=key))
    s += len(hashlib.sha256(b"x" * 512).digest())
    for i in range(300):
        s += i * i
print("%.6f %.6f" % (time.perf_counter() - t, time.process_time() - c))
EOF
N=$("$PY" -c "import time,subprocess,sys; t=time.perf_counter(); subprocess.run([sys.argv[1], sys.argv[2], '2000'], stdout=subprocess.DEVNULL); d=time.perf_counter()-t; print(max(2000, int(2000 * 4 / d)))" "$PY" "$TMP/fixed.py")
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run_variant() { # CMD...: "WALL CPU", the workload's own elapsed and CPU seconds, medians of ROUNDS
	local i
	for i in $(seq "$ROUNDS"); do
		"$@" "$PY" "$TMP/fixed.py" "$N" 2>/dev/null | tail -1
	done >"$TMP/runs"
	echo "$(cut -d' ' -f1 "$TMP/runs" | median) $(cut -d' ' -f2 "$TMP/runs" | median)"
}
row() { # NAME "WALL CPU"
	echo "$2 $base" | awk -v n="$1" '{ printf "%-34s %8.3f %8.1f%% %8.3f %8.1f%%\n", n, $1, 100 * ($1 / $3 - 1), $2, 100 * ($2 / $4 - 1) }'
}
echo
echo "## slowdown of a fixed Python workload ($N rounds; its own elapsed and CPU time, medians of $ROUNDS)"
base=$(run_variant env)
printf "%-34s %8s %9s %8s %9s\n" "variant" "wall s" "slowdown" "cpu s" "slowdown"
row "no profiler" "$base"
for hz in 99 999; do
	row "scorch record -F $hz" "$(run_variant "$SCORCH" record -q -F "$hz" -o "$TMP/fixed.prof" --)"
	row "scorch record -F $hz --no-python" \
		"$(run_variant "$SCORCH" record -q -F "$hz" --no-python -o "$TMP/fixed.prof" --)"
	if [ -n "$AUSTIN_BIN" ]; then
		iv=$((1000000 / hz))
		row "austin -s -i ${iv}us" "$(run_variant "$AUSTIN_BIN" -s -i "${iv}us" -o "$TMP/austin.fixed")"
	else
		printf "%-34s %8s\n" "austin ($hz Hz)" "NOT MEASURED"
	fi
done
echo "(CPU time includes the BPF program's, which runs in the sampled thread; austin reads from its own"
echo " process, so its cost shows in elapsed time only)"

# --- 3. BPF cost per sample --------------------------------------------------------------------------
echo
echo "## BPF sampler run time per sample (kernel.bpf_stats_enabled), recording the fixed workload at 999 Hz"
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
sysctl -qw kernel.bpf_stats_enabled=1 || { echo "cannot enable kernel.bpf_stats_enabled: NOT MEASURED"; exit 0; }
# The ids of the loaded programs named on_sample.
sample_progs() {
	bpftool prog show -j 2>/dev/null | "$PY" -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") == "on_sample":
        print(p["id"], p.get("run_time_ns", 0), p.get("run_cnt", 0))
'
}
bpf_cost() { # extra record options...: ns per run of this recorder's on_sample program
	local rpid out
	sample_progs | cut -d' ' -f1 | sort >"$TMP/before"
	"$SCORCH" record -q -F 999 -o "$TMP/cost.prof" "$@" -- "$PY" "$TMP/fixed.py" "$N" >/dev/null 2>&1 &
	rpid=$!
	sleep 2
	# The program that appeared since (bpftool here may not say which process holds a program).
	out=$(sample_progs | sort | join -v 1 - "$TMP/before" | head -1)
	wait "$rpid"
	echo "$out" | awk '{ if ($3) printf "%.0f ns over %d runs", $2 / $3, $3; else print "NOT MEASURED (no new on_sample program seen)" }'
}
echo "with Python frames:  $(bpf_cost)"
echo "with --no-python:    $(bpf_cost --no-python)"
sysctl -qw kernel.bpf_stats_enabled="$old_stats"
echo "(runs include the other CPUs' samples of other processes, which stop after a lookup: compare the two lines)"
