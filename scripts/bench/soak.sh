#!/bin/bash
# Long-run soak: record a thread-churning workload for MINUTES (default 10) and print the recorder's
# resident memory over time (at 1, 5 and 10 minutes, and every minute), the samples and losses, and
# whether the file reads back. Numbers are printed, not asserted.
#
#   scripts/bench/soak.sh [MINUTES]        (as root; FREQ=999 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
freq=${FREQ:-999}
OUT=${OUT:-build}
[ "$(id -u)" = 0 ] || { echo "soak: needs root (BPF recording)" >&2; exit 1; }
make --no-print-directory -s all "$OUT/workloads/churn"
tmp=$(mktemp -d)
trap 'kill $wl $rec 2>/dev/null; rm -rf "$tmp"' EXIT

"$OUT/workloads/churn" $((minutes * 60 + 30)) &
wl=$!
"$OUT/scorch" record -q -F "$freq" -p "$wl" -d $((minutes * 60)) -o "$tmp/soak.prof" &
rec=$!
echo "soak: recording pid $wl (4 threads created and joined continuously) at $freq Hz for $minutes min"
printf '%8s %12s %12s %14s\n' minute rss_kib peak_kib file_kib
for m in $(seq 1 "$minutes"); do
	sleep 60
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$rec/status 2>/dev/null || echo gone)
	hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$rec/status 2>/dev/null || echo gone)
	size=$(($(stat -c %s "$tmp"/soak.prof.partial-* 2>/dev/null | head -1 || echo 0) / 1024))
	printf '%8d %12s %12s %14s\n' "$m" "$rss" "$hwm" "$size"
done
wait "$rec"
kill "$wl" 2>/dev/null || true
"$OUT/scorch" info -i "$tmp/soak.prof" | grep -E '^# samples|^threads|^unique stacks|^lost|^samples'
echo "soak: file $(($(stat -c %s "$tmp/soak.prof") / 1024)) KiB, reads back: $("$OUT/scorch" report -i "$tmp/soak.prof" -n 1 >/dev/null && echo yes)"
