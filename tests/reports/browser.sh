#!/bin/bash
# The flame graph in a real browser (headless chromium): it renders the expected frames with their
# tooltips, and its script's search and zoom work (driven through the page's ?s= and ?zoom= URL
# parameters) and by real input events (tests/reports/cdp-flamegraph.js). A flame graph of 100k
# unique stacks also loads.
source "$(dirname "$0")/lib.bash"
need_chromium

"$SCORCH" flamegraph -i "$TMP/fixture.prof" -o "$TMP/fg.svg" --title 'Fixture <&>' || fail "flamegraph"
url=file://$TMP/fg.svg

dom() { chrome_dom "$url$1" >"$TMP/dom.txt" || fail "chromium could not load $url$1"; }
# The element <g data-name="NAME">...</g> of the rendered page, on one line.
frame() { tr '\n' ' ' <"$TMP/dom.txt" | grep -o "<g data-name=\"$1\"[^>]*>.\{0,400\}</g>" | head -1; }
attr() { grep -o " $1=\"[^\"]*\"" | head -1 | sed 's/.*="\(.*\)"/\1/'; }

# 1. It renders: the frames, labels and tooltips are in the DOM after the page's script ran.
dom ""
grep -q 'Fixture &lt;&amp;&gt;' "$TMP/dom.txt" || fail "title not rendered"
for f in main run compute memcpy do_syscall_64 parse_config jitted_loop; do
	g=$(frame "$f")
	[ -n "$g" ] || fail "frame '$f' not in the rendered page"
done
grep -q '<title>memcpy (50 samples, 50.00%) in libc.so.6</title>' "$TMP/dom.txt" || fail "memcpy tooltip"
grep -q '<title>compute (75 samples, 75.00%) in app</title>' "$TMP/dom.txt" || fail "compute tooltip"
[ "$(frame main | attr width)" = 1180.00 ] || fail "main should span the width"
[ "$(frame memcpy | attr width)" = 590.00 ] || fail "memcpy should be half the width"
grep -q '>memcpy</text>' "$TMP/dom.txt" || fail "memcpy label not drawn"
note "renders: frames, labels, tooltips and widths"

# 2. Search: matches are highlighted and the matched share is shown.
dom "?s=memcpy"
grep -q 'Matched: 50.00%' "$TMP/dom.txt" || fail "search memcpy: $(grep -o 'Matched[^<]*' "$TMP/dom.txt")"
[ "$(frame memcpy | attr fill)" = "rgb(230,0,230)" ] || fail "memcpy not highlighted"
[ "$(frame run | attr fill)" != "rgb(230,0,230)" ] || fail "run highlighted without matching"
dom "?s=^(parse_config|jitted_loop)$"
grep -q 'Matched: 18.00%' "$TMP/dom.txt" || fail "search parse_config|jitted_loop"
note "search: highlight and matched share"

# 3. Zoom: the frame fills the width, its ancestors are marked, frames outside it are hidden.
dom "?zoom=run"
[ "$(frame run | attr width)" = 1180.00 ] || fail "zoomed run should span the width"
[ "$(frame memcpy | attr width)" = 786.67 ] || fail "memcpy under zoomed run: $(frame memcpy | attr width)"
frame main | grep -q 'class="parent"' || fail "main should be marked as a parent when zoomed"
frame parse_config | grep -q 'class="hide"' || fail "parse_config should be hidden when zoomed to run"
grep -q 'id="unzoom" class=""' "$TMP/dom.txt" || fail "Reset Zoom should show when zoomed"
dom "?zoom=run&s=memcpy"
grep -q 'Matched: 66.67%' "$TMP/dom.txt" || fail "search within zoom: $(grep -o 'Matched[^<]*' "$TMP/dom.txt")"
note "zoom: widths, parents, hidden frames, search within the zoomed frame"

# 4. As a person would use it: hover, click, Escape, the Search button's prompt, Ctrl-F, through the
# DevTools protocol (real input events through chromium's hit testing).
if command -v node >/dev/null; then
	node "$ROOT/tests/reports/cdp-flamegraph.js" "$CHROMIUM" "$TMP/cdp-profile" "$TMP/fg.svg" >"$TMP/cdp.txt" 2>&1 ||
		{ cat "$TMP/cdp.txt"; fail "interactive use of the flame graph"; }
	note "interactive: $(grep -c '^ok' "$TMP/cdp.txt") checks of hover, click-to-zoom, Escape, Search, Ctrl-F"
else
	missing "no node to drive chromium"
fi

# 5. It draws: a screenshot is made (the page did not fail to render).
chrome --screenshot="$TMP/fg.png" --window-size=1200,300 "$url" >/dev/null || fail "screenshot"
[ -s "$TMP/fg.png" ] || fail "empty screenshot"

# 6. A large profile: 100k unique stacks make a file that a browser opens.
"$SYNTH" -o "$TMP/big.prof" --stacks 100000 --samples 1000000 --functions 2000 --depth 30 || fail "synth big"
"$SCORCH" flamegraph -i "$TMP/big.prof" -o "$TMP/big.svg" || fail "flamegraph of the large profile"
size=$(stat -c %s "$TMP/big.svg")
url=file://$TMP/big.svg
dom "?s=func_1$"
grep -q 'Matched: [0-9.]*%' "$TMP/dom.txt" || fail "the large flame graph did not load in chromium"
n=$(grep -c '<g data-name=' "$TMP/dom.txt")
[ "$n" -gt 1000 ] || fail "the large flame graph has only $n frames"
note "large: 100k stacks -> $((size / 1024)) KiB SVG, $n frames, loads and searches"
