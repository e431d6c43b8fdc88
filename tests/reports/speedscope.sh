#!/bin/bash
# The speedscope export loaded by speedscope itself: the npm package's release bundle runs in headless
# chromium, imports the file through speedscope.loadFileFromBase64 (what its own CLI does), and shows
# the busiest thread's profile. A broken file, as a control, must not load. The file is also checked
# against the format's rules (shared frames, samples and weights of equal length, valid indices).
source "$(dirname "$0")/lib.bash"
need_speedscope
need_chromium
command -v node >/dev/null || missing "no node"

"$SCORCH" export -f speedscope -i "$TMP/fixture.prof" -o "$TMP/f.speedscope.json" || fail "export speedscope"

# Load FILE into speedscope; print the DOM after import.
load() {
	node -e '
		const fs = require("fs");
		const b64 = fs.readFileSync(process.argv[1]).toString("base64");
		fs.writeFileSync(process.argv[2], `speedscope.loadFileFromBase64(${JSON.stringify(process.argv[3])}, ${JSON.stringify(b64)})`);
	' "$1" "$TMP/load.js" "$(basename "$1")" || fail "node"
	chrome_dom "file://$SPEEDSCOPE#localProfilePath=$TMP/load.js" --enable-unsafe-swiftshader >"$TMP/dom.txt" || fail "chromium could not load speedscope"
}

load "$TMP/f.speedscope.json"
# The page title is the "name" field of the file, so it shows that speedscope parsed it.
grep -qF "<title>$TMP/fixture.prof - speedscope</title>" "$TMP/dom.txt" || fail "speedscope did not import the file"
grep -q 'app (100/100)' "$TMP/dom.txt" || fail "speedscope does not show the busiest thread 'app (100/100)'"
note "speedscope imported the export and shows 'app (100/100)'"

# Control: a file speedscope must reject (a frame index out of range) does not show the profile.
sed 's/"samples":\[\[0,/"samples":[[999,/' "$TMP/f.speedscope.json" >"$TMP/bad.speedscope.json"
cmp -s "$TMP/f.speedscope.json" "$TMP/bad.speedscope.json" && fail "could not make the broken control file"
load "$TMP/bad.speedscope.json"
if grep -q 'app (100/100)' "$TMP/dom.txt"; then
	fail "speedscope shows a broken file too: the check above proves nothing"
fi
note "control: speedscope does not show a broken file"

# The format's rules, on the fixture and with filters and --by line.
"$SCORCH" export -f speedscope --by line --no-kernel -i "$TMP/fixture.prof" -o "$TMP/l.speedscope.json" || fail "export --by line"
node -e '
	const fs = require("fs");
	for (const f of process.argv.slice(1)) {
		const d = JSON.parse(fs.readFileSync(f));
		const n = d.shared.frames.length, err = m => { console.log(`${f}: ${m}`); process.exit(1); };
		if (d["$schema"] !== "https://www.speedscope.app/file-format-schema.json") err("$schema");
		let total = 0;
		for (const p of d.profiles) {
			if (p.type !== "sampled" || p.samples.length !== p.weights.length) err(`profile ${p.name}`);
			for (const s of p.samples) for (const i of s) if (!(i >= 0 && i < n)) err(`frame index ${i}`);
			const w = p.weights.reduce((a, b) => a + b, 0);
			if (w !== p.endValue - p.startValue) err(`weights of ${p.name} sum to ${w}`);
			total += w;
		}
		if (total !== 100) err(`${total} samples, want 100`);
		for (const fr of d.shared.frames) if (typeof fr.name !== "string") err("frame name");
	}
' "$TMP/f.speedscope.json" "$TMP/l.speedscope.json" || fail "format rules"
grep -q '"name":"compute app.c:20","file":"app.c","line":20' "$TMP/l.speedscope.json" || fail "--by line frames"
note "format rules hold; --by line frames carry file and line"
