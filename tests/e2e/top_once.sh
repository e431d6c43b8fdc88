# top --once -p PID: one plain snapshot of the hottest functions; the workload's hotspot is the top row.
. "$(dirname "$0")/lib.bash"

# A workload whose one hotspot is obvious: hot_spin takes ~90% of the CPU time, warm_spin ~10%.
cat >"$TMP/hot.c" <<'C'
#include <stdint.h>
static volatile uint64_t sink;
__attribute__((noinline)) void hot_spin(void) { for (int i = 0; i < 900000; i++) sink += i * 7; }
__attribute__((noinline)) void warm_spin(void) { for (int i = 0; i < 100000; i++) sink += i * 3; }
int main(void) { for (;;) { hot_spin(); warm_spin(); } }
C
cc -O0 -fno-omit-frame-pointer -o "$TMP/hot" "$TMP/hot.c" || fail "cannot build the workload"
"$TMP/hot" &
pid=$!
BG_PIDS+=("$pid")
sleep 0.3
"$SCORCH" top --once -F 199 -i 1.5 -p "$pid" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "top --once failed"; }
cat "$TMP/out" >&2
grep -q $'\033' "$TMP/out" && fail "escape sequences in output that is not a terminal"
head -1 "$TMP/out" | grep -q '^scorch top: [0-9]* samples in 1.5 s at 199 Hz, by function, sort self' ||
	fail "unexpected header"
first=$(awk 'NR > 2 && NF >= 4 { print $4; exit }' "$TMP/out")
[ "$first" = hot_spin ] || fail "top row is '$first', expected hot_spin"
self=$(awk '$4 == "hot_spin" { sub(/%/, "", $1); printf "%d\n", $1 }' "$TMP/out")
between "$self" 70 100 "hot_spin self %"
grep -q ' warm_spin ' "$TMP/out" || fail "warm_spin missing"
kill -0 "$pid" || fail "the target died"
# Without -i: the table covers the first 1000 samples (at 499 Hz, about 2 s of the one busy thread),
# not 1 s (99 samples at the default 99 Hz, too few to rank anything but the hottest function).
"$SCORCH" top --once -F 499 -p "$pid" >"$TMP/auto" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "top --once without -i failed"; }
head -1 "$TMP/auto" >&2
read -r n secs < <(sed -n '1s/^scorch top: \([0-9]*\) samples in \([0-9.]*\) s .*/\1 \2/p' "$TMP/auto")
[ -n "${n:-}" ] || fail "unexpected header: $(head -1 "$TMP/auto")"
between "$n" 1000 1200 "samples of top --once without -i"
between "${secs%.*}" 1 10 "seconds of top --once without -i at 499 Hz"
# Sort by total: main (and its callers in libc) come first, at 100%.
"$SCORCH" top --once -s total -i 0.5 -p "$pid" >"$TMP/tot" || fail "top -s total failed"
awk 'NR == 3 { exit !($2 == "100.00%") }' "$TMP/tot" || fail "first row by total is not at 100%"
exit 0
