#!/bin/bash
# The pprof export read by the real pprof (built from Debian's sources): 'pprof -top' lists the same
# functions with the same flat and cumulative shares as 'scorch report', on the fixture and on a larger
# synthetic profile; -raw shows inlined frames as several lines of one location, build ids and labels.
source "$(dirname "$0")/lib.bash"
need_pprof

# Compare 'pprof -top' with 'scorch report --json': every function pprof lists must be in scorch's
# report with the same self and total percentages (to 0.01), and the top 5 by self must agree. Unnamed
# addresses too: each is a function of its own, "[module+0xaddr]" as in report.
compare() {
	local prof=$1 what=$2
	"$SCORCH" export -f pprof -i "$prof" -o "$TMP/x.pb.gz" || fail "export $what"
	"$PPROF" -top -nodecount=100000 -sample_index=samples "$TMP/x.pb.gz" >"$TMP/top.txt" 2>"$TMP/top.err" ||
		{ cat "$TMP/top.err"; fail "pprof -top cannot read the export of $what"; }
	"$SCORCH" report --json -n 0 -i "$prof" >"$TMP/report.json" || fail "report $what"
	node -e '
		const fs = require("fs");
		const rep = JSON.parse(fs.readFileSync(process.argv[1]));
		const top = fs.readFileSync(process.argv[2], "utf8").split("\n");
		const byName = new Map(rep.rows.map(r => [r.name, r]));
		let rows = [], bad = [];
		for (const l of top) {
			const m = l.match(/^\s*(\d+)\s+([\d.]+)%\s+[\d.]+%\s+(\d+)\s+([\d.]+)%\s+(.+?)\s*$/);
			if (!m) continue;
			const [, flat, flatp, cum, cump, name] = m;
			const r = byName.get(name.replace(/ \(inline\)$/, ""));
			// pprof prints a name with a newline as it is, over two lines: skip its pieces.
			if (!r && rep.rows.some(x => x.name.startsWith(name + "\n"))) continue;
			if (!r) { bad.push(`pprof lists ${name}, scorch does not`); continue; }
			if (Math.abs(r.self_percent - flatp) > 0.01 || Math.abs(r.total_percent - cump) > 0.01 ||
			    r.self != +flat || r.total != +cum)
				bad.push(`${name}: pprof flat ${flat} (${flatp}%) cum ${cum} (${cump}%), scorch self ${r.self} (${r.self_percent}%) total ${r.total} (${r.total_percent}%)`);
			rows.push(name.replace(/ \(inline\)$/, ""));
		}
		if (rows.length < 5) bad.push(`pprof -top listed only ${rows.length} functions`);
		const ours = rep.rows.slice(0, 5).map(r => r.name).join(",");
		if (rows.slice(0, 5).join(",") !== ours) bad.push(`top 5 differ: pprof ${rows.slice(0, 5)} scorch ${ours}`);
		if (bad.length) { console.log(bad.slice(0, 10).join("\n")); process.exit(1); }
		console.log(`  ${process.argv[3]}: ${rows.length} functions agree; top: ${rows.slice(0, 3).join(", ")}`);
	' "$TMP/report.json" "$TMP/top.txt" "$what" || { head -20 "$TMP/top.txt"; fail "pprof -top and scorch report differ on $what"; }
}

compare "$TMP/fixture.prof" "the fixture"
"$SYNTH" -o "$TMP/synth.prof" --stacks 3000 --samples 200000 --functions 300 --depth 20 --seed 7 || fail synth
compare "$TMP/synth.prof" "a synthetic profile (3000 stacks)"

# Details pprof sees in the fixture's export.
"$SCORCH" export -f pprof -i "$TMP/fixture.prof" -o "$TMP/f.pb.gz" || fail export
"$PPROF" -raw "$TMP/f.pb.gz" >"$TMP/raw.txt" 2>&1 || fail "pprof -raw"
grep -q '^samples/count cpu/nanoseconds\[dflt\]' "$TMP/raw.txt" || fail "sample types"
grep -q '^PeriodType: cpu nanoseconds' "$TMP/raw.txt" || fail "period type"
grep -q '^Period: 10000000$' "$TMP/raw.txt" || fail "period of 100 Hz"
# The inlined compute and its caller run are two lines of one location, innermost first.
tr '\n' '|' <"$TMP/raw.txt" | grep -q 'M=1 compute app.c:20 s=0| *run app.c:30 s=0' || fail "inline frames"
grep -q '/usr/bin/app aabbccdd' "$TMP/raw.txt" || fail "build id of the main mapping"
grep -q '^1: .*/usr/bin/app' "$TMP/raw.txt" || fail "mapping 1 should be the main binary"
grep -q 'comm:\[worker\]' "$TMP/raw.txt" || fail "comm label"
# An unnamed address is one function named as report names it, not its module's name.
grep -q '\[libc.so.6+0x9abc\]' "$TMP/raw.txt" || fail "unnamed address named [libc.so.6+0x9abc]"
grep -q 'pid:\[100\] tid:\[101\]' "$TMP/raw.txt" || fail "pid/tid labels"
# Thread filters apply to the export.
"$SCORCH" export -f pprof --tid 101 -i "$TMP/fixture.prof" -o "$TMP/t.pb.gz" || fail "export --tid"
"$PPROF" -top "$TMP/t.pb.gz" 2>/dev/null | grep -q 'Total samples = 300ms' || fail "export --tid 101 should keep 30 samples"
# pprof's own filters work on our export: -focus on memcpy keeps its 50 samples.
"$PPROF" -top -sample_index=samples -focus=memcpy "$TMP/f.pb.gz" 2>/dev/null | grep -q 'Showing nodes accounting for 50, 50.00% of 100 total' ||
	fail "pprof -focus on the export"
note "pprof -raw: sample types, period, inline lines, build ids, labels; --tid filter; pprof -focus"
