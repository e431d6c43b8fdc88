#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# realworld.sh - scorch and perf side by side on software nobody here wrote: Debian's PostgreSQL
# under a pgbench load.
#
# Usage (as root, from anywhere in the repository):
#   scripts/bench/realworld.sh
#   SECONDS_EACH=10 HZ=999 CLIENTS=4 scripts/bench/realworld.sh
#
# It creates a throw-away cluster in a temporary directory (as user postgres, on a Unix socket only),
# fills it with `pgbench -i`, starts one pgbench load, then records the postmaster and its backends
# for SECONDS_EACH seconds with each profiler in turn, under the same load:
#   scorch record -F HZ -p PIDS            (default call graph: -g auto, unwound in the kernel)
#   perf record -e cpu-clock -F HZ --call-graph dwarf -p PIDS
# and prints, per profiler: samples, samples lost, the share of samples whose stack reaches
# __libc_start_main (the root of every postgres process), profile file size, bytes per sample and
# the time to print a report (scorch report; perf report --stdio), then the top 10 functions by self
# time side by side and how far their shares differ.
#
# Environment: SECONDS_EACH (8), HZ (999), CLIENTS (4), SCORCH (build/scorch), PERF (perf).
# It prints numbers and asserts nothing; it exits 0 unless something failed to run.
set -euo pipefail

SECONDS_EACH=${SECONDS_EACH:-8}
HZ=${HZ:-999}
CLIENTS=${CLIENTS:-4}
PERF=${PERF:-perf}

die() {
	echo "realworld.sh: error: $*" >&2
	exit 1
}
note() { echo "realworld.sh: $*" >&2; }

for v in SECONDS_EACH HZ CLIENTS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ $(id -u) -eq 0 ]] || die "must run as root (BPF, perf -p of another user's processes); try: sudo $0"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCORCH=${SCORCH:-$REPO/build/scorch}
"$REPO/scripts/install-deps.sh" bench >&2 || die "cannot install the benchmark's packages"
if [[ ! -x $SCORCH ]]; then
	make -C "$REPO" >&2 || die "make failed"
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $PGBIN && -x $PGBIN/postgres ]] || die "no PostgreSQL server under /usr/lib/postgresql"
"$PERF" record -e cpu-clock -o /dev/null -- true >/dev/null 2>&1 || die "'$PERF record' does not work here"

WORK=$(mktemp -d /tmp/scorch-realworld.XXXXXX)
chmod 755 "$WORK"
PGDATA=$WORK/data
PGPORT=54329
PG_PID=""
LOAD_PID=""
cleanup() {
	[[ -n $LOAD_PID ]] && kill "$LOAD_PID" 2>/dev/null
	[[ -n $PG_PID ]] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

as_pg() { runuser -u postgres -- "$@"; }
mkdir -p "$PGDATA" && chown postgres: "$PGDATA" "$WORK"
as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust >/dev/null || die "initdb failed"
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/pg.log" -w \
	-o "-c listen_addresses='' -c unix_socket_directories='$WORK' -p $PGPORT -c shared_buffers=128MB" start >/dev/null ||
	die "postgres did not start: $(tail -5 "$WORK/pg.log")"
PG_PID=$(head -1 "$PGDATA/postmaster.pid")
PGB=(runuser -u postgres -- pgbench -h "$WORK" -p "$PGPORT")
"${PGB[@]}" -i -q -s 10 postgres >/dev/null 2>&1 || die "pgbench -i failed"
total=$((2 * SECONDS_EACH + 20))
"${PGB[@]}" -c "$CLIENTS" -j 2 -T "$total" postgres >"$WORK/pgbench.out" 2>&1 &
LOAD_PID=$!
sleep 3
# The postmaster and the backends pgbench opened: the same list for both profilers.
PIDS=$(pgrep -d, -P "$PG_PID"),$PG_PID
note "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), pgbench -c $CLIENTS; recording pids $PIDS, $SECONDS_EACH s each at $HZ Hz"

# collapse_perf: perf script output to folded stacks (root first), one line per sample.
collapse_perf() {
	awk '/^[^ \t]/ { if (st != "") print st " 1"; st = ""; next }
	     /^[ \t]+[0-9a-f]+ / { sym = $2; for (i = 3; i < NF; i++) sym = sym " " $i; sub(/\+0x[0-9a-f]+$/, "", sym);
	                       st = (st == "") ? sym : sym ";" st; next }
	     END { if (st != "") print st " 1" }'
}

# --- scorch ---
"$SCORCH" record -q -F "$HZ" -p "$PIDS" -d "$SECONDS_EACH" -o "$WORK/s.prof" 2>"$WORK/s.err" ||
	die "scorch record failed: $(cat "$WORK/s.err")"
/usr/bin/time -f %e -o "$WORK/s.time" "$SCORCH" report -i "$WORK/s.prof" -n 10 >/dev/null 2>&1
s_time=$(tail -1 "$WORK/s.time")
"$SCORCH" folded -i "$WORK/s.prof" >"$WORK/s.folded"
s_samples=$(awk '{ t += $NF } END { print t + 0 }' "$WORK/s.folded")
s_root=$(awk '{ t += $NF; if ($0 ~ /(^|;)__libc_start_main/) r += $NF } END { printf "%.1f", t ? 100 * r / t : 0 }' "$WORK/s.folded")
s_lost=$("$SCORCH" info -i "$WORK/s.prof" | awk '$1 == "lost" { print $2; exit }')
s_size=$(stat -c %s "$WORK/s.prof")
"$SCORCH" report -i "$WORK/s.prof" --no-header -n 10 --no-inline |
	awk 'NR > 1 && !/^#/ { f = $5; for (i = 6; i < NF; i++) f = f " " $i; print $1 + 0 "\t" f }' >"$WORK/s.top"

# --- perf ---
"$PERF" record -q -e cpu-clock -F "$HZ" --call-graph dwarf -p "$PIDS" -o "$WORK/p.data" -- sleep "$SECONDS_EACH" \
	>/dev/null 2>"$WORK/p.err" || die "perf record failed: $(cat "$WORK/p.err")"
/usr/bin/time -f %e -o "$WORK/p.time" "$PERF" report -i "$WORK/p.data" --stdio --no-children >/dev/null 2>&1
p_time=$(tail -1 "$WORK/p.time")
"$PERF" script -i "$WORK/p.data" -F comm,pid,ip,sym 2>/dev/null | collapse_perf >"$WORK/p.folded"
p_samples=$(wc -l <"$WORK/p.folded")
p_root=$(awk '{ t++; if ($0 ~ /(^|;)__libc_start_main/) r++ } END { printf "%.1f", t ? 100 * r / t : 0 }' "$WORK/p.folded")
p_lost=$("$PERF" report -i "$WORK/p.data" --stats 2>/dev/null | awk '/LOST_SAMPLES/ { n += $NF } /^ *LOST / { n += $NF } END { print n + 0 }')
p_size=$(stat -c %s "$WORK/p.data")
"$PERF" report -i "$WORK/p.data" --stdio --no-children --sort symbol -g none 2>/dev/null |
	awk '/^ +[0-9.]+%/ && n < 10 { n++; p = $1; sub(/%/, "", p); $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/( +-)+ *$/, ""); print p + 0 "\t" $0 }' \
	>"$WORK/p.top"

tps=$(awk '/^tps/ { print $3; exit }' "$WORK/pgbench.out" 2>/dev/null)
echo
echo "PostgreSQL under pgbench (-c $CLIENTS), $SECONDS_EACH s at $HZ Hz each, scorch -g auto, perf --call-graph dwarf"
printf '%-8s %9s %7s %12s %12s %10s %12s\n' profiler samples lost "root reach" "file size" bytes/smp "report (s)"
printf '%-8s %9d %7s %11s%% %12d %10.0f %12s\n' scorch "$s_samples" "${s_lost:-0}" "$s_root" "$s_size" \
	"$(echo "$s_size / ($s_samples + 0.001)" | bc -l)" "$s_time"
printf '%-8s %9d %7s %11s%% %12d %10.0f %12s\n' perf "$p_samples" "$p_lost" "$p_root" "$p_size" \
	"$(echo "$p_size / ($p_samples + 0.001)" | bc -l)" "$p_time"
echo
echo "Top 10 by self time (scorch | perf), and the difference of shares for functions in both:"
paste "$WORK/s.top" "$WORK/p.top" | awk -F'\t' '{ printf "  %6.2f%%  %-34.34s | %6.2f%%  %-34.34s\n", $1, $2, $3, $4 }'
awk -F'\t' 'NR == FNR { s[$2] = $1; next } { if ($2 in s) { n++; d = s[$2] - $1; if (d < 0) d = -d; if (d > m) m = d } }
	END { printf "  in both top 10: %d functions; largest share difference %.2f points\n", n, m }' "$WORK/s.top" "$WORK/p.top"
[[ -n $tps ]] && echo "  (pgbench: $tps tps over the whole run)"
exit 0
