#!/bin/bash
# Target-controlled strings (comm, mapping paths, function and DWARF file names, profile meta) that hold
# terminal escapes, BEL, newlines, C1 controls (raw and UTF-8-encoded), a bidi override and bytes that
# are not UTF-8 (synth --hostile) never reach the text outputs raw: every byte printed is printable
# UTF-8, tables keep one row per line, diff's JSON parses, and its markdown renders no link, image or
# mention.
source "$(dirname "$0")/lib.bash"

P=$TMP/hostile.prof
"$SYNTH" -o "$P" --hostile || fail "synth --hostile"

# clean FILE WHAT: valid UTF-8, no control character but newline, no C1, no bidi or line separator.
clean() {
	python3 - "$1" "$2" <<'PY' || fail "$2 printed bytes a terminal would act on"
import sys
data = open(sys.argv[1], 'rb').read()
try:
    text = data.decode('utf-8')
except UnicodeDecodeError as e:
    print(f"{sys.argv[2]}: not UTF-8: {e}", file=sys.stderr)
    sys.exit(1)
bad = [c for c in text if (ord(c) < 0x20 and c != '\n') or 0x7f <= ord(c) <= 0x9f or
       ord(c) in (0x061c, 0x200e, 0x200f) or 0x2028 <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
if bad:
    print(f"{sys.argv[2]}: {len(bad)} unsafe characters, first U+{ord(bad[0]):04X}", file=sys.stderr)
    sys.exit(1)
PY
}

run() { # run NAME ARGS...: scorch ARGS into $TMP/NAME, which must be clean
	local name=$1
	shift
	"$SCORCH" "$@" >"$TMP/$name" 2>"$TMP/$name.err" || { cat "$TMP/$name.err" >&2; fail "scorch $*"; }
	clean "$TMP/$name" "scorch $*"
	clean "$TMP/$name.err" "scorch $* (stderr)"
}

run report report -i "$P" -n 0
# Header lines and one row per function: 5 functions (the inlined one is its own), a row each.
rows=$(grep -vc '^#' "$TMP/report")
[ "$rows" = 6 ] || { cat "$TMP/report" >&2; fail "the report has $rows lines outside the header, not 6 (title + 5 rows)"; }
grep -q '^# command:  app ?\]0;owned??\[2J???31m?32m?? --arg$' "$TMP/report" ||
	{ head -3 "$TMP/report" >&2; fail "the command line is not shown with '?' for each unsafe character"; }
run report-line report -i "$P" -n 0 --by line
run report-module report -i "$P" -n 0 --by module
run report-process report -i "$P" -n 0 --by process
run callers report -i "$P" --callers main --callees main
run info info -i "$P"
[ "$(grep -c '?\]0;owned' "$TMP/info")" -ge 10 ] || fail "info does not show the hostile meta, counters and mappings"
run folded folded -i "$P" --tid --annotate
[ "$(wc -l <"$TMP/folded")" = 3 ] || fail "folded has $(wc -l <"$TMP/folded") lines, not 3"
run diff diff "$P" "$P"
run diff-stack diff --by stack "$P" "$P"
run diff-md diff -f markdown "$P" "$P"
run diff-folded diff -f folded "$P" "$P"
run diff-json diff -f json "$P" "$P"
python3 -c 'import json, sys; json.load(sys.stdin)' <"$TMP/diff-json" || fail "diff -f json is not valid JSON"
run report-json report --json -i "$P" -n 0
python3 -c 'import json, sys; json.load(sys.stdin)' <"$TMP/report-json" || fail "report --json is not valid JSON"

# Markdown: no live image, link, mention or code span, no HTML; '|' stays inside its cell.
md=$(grep -F 'e.example' "$TMP/diff-md") || fail "the markdown lost the row of the markdown-shaped name"
for live in '![' '](' ' @team' '`b`' '<b>' '*s*' '_u_'; do
	case "$md" in *"$live"*) fail "diff -f markdown leaves '$live' unescaped: $md" ;; esac
done
cells=$(tr -cd '|' <<<"${md//\\|/}" | wc -c)
[ "$cells" = 8 ] || fail "the markdown row has $cells unescaped '|', not 8: $md"

# Warnings and errors quote what they were given the same way.
"$SCORCH" report -i "$P" --callers $'no\e[31m\x9bsuch\n' >"$TMP/none" 2>"$TMP/none.err" && fail "--callers of a missing name succeeded"
clean "$TMP/none.err" "the error for a missing --callers name"
grep -q "no function 'no?\[31m?such?' in the profile" "$TMP/none.err" || fail "unexpected error: $(cat "$TMP/none.err")"
echo "every text output of a hostile profile is clean"
