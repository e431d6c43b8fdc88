#!/bin/sh
# make demo: profile the bundled demo workload for a few seconds and print what scorch found.
set -eu
out=${1:-build}
prof=$out/demo.prof

if [ "$(id -u)" != 0 ]; then
	echo "demo: recording needs root (BPF and perf events): run 'sudo make demo'" >&2
	exit 1
fi
echo "demo: scorch record -F 999 -o $prof -- $out/workloads/demo 3"
"$out/scorch" record -F 999 -o "$prof" -- "$out/workloads/demo" 3
echo
echo "demo: scorch report -i $prof -n 10"
"$out/scorch" report -i "$prof" -n 10
echo
echo "demo: scorch folded -i $prof (the hottest stacks)"
"$out/scorch" folded -i "$prof" | sort -t' ' -k2 -nr | head -5
