#!/bin/bash
# Folded stacks from any tool are input too: 'scorch report', 'flamegraph' and 'export' on the folded
# output of the fixture give the same functions and shares as on the profile itself, and folded text
# written by another tool (annotated, with a "module`function" frame) reads as such.
source "$(dirname "$0")/lib.bash"

P=$TMP/fixture.prof
"$SCORCH" folded -i "$P" --annotate -o "$TMP/f.folded" || fail "folded"
# Names as both see them; the folded text has no modules, so compare names and shares only.
rows() { "$SCORCH" report -n 0 --no-header -i "$1" | awk 'NR > 1 { print $1, $2, $3, $4, $5 }' | sort; }
rows "$P" | grep -v 'weird\|odd' >"$TMP/a"   # names that folded makes safe differ by design
rows "$TMP/f.folded" | grep -v 'weird\|odd' >"$TMP/b"
diff "$TMP/a" "$TMP/b" || fail "report on the folded stacks differs from report on the profile"
note "report: $(wc -l <"$TMP/a") functions with the same shares from folded input"

# Kinds come back from the annotations: the flame graph colours kernel frames blue.
"$SCORCH" flamegraph -i "$TMP/f.folded" -o "$TMP/f.svg" || fail "flamegraph from folded"
grep -o '<g data-name="do_syscall_64"><title>[^<]*</title><rect [^>]*' "$TMP/f.svg" | grep -q 'fill="rgb(1[3-8][0-9],' ||
	fail "the kernel frame from '_[k]' is not drawn as kernel"
"$SCORCH" folded -i "$TMP/f.folded" --annotate | diff - "$TMP/f.folded" >/dev/null ||
	fail "folded -> folded is not the identity"

# Text as another tool writes it, from standard input.
printf 'python;main;work 3\npython;main;libc.so.6`memcpy 1\n' | "$SCORCH" report -i - --no-header -n 0 >"$TMP/o.txt" ||
	fail "report on folded text from stdin"
grep -Eq '^ 75\.00% +75\.00% +3 +3  work ' "$TMP/o.txt" || { cat "$TMP/o.txt"; fail "shares of folded text"; }
grep -Eq ' memcpy +libc\.so\.6$' "$TMP/o.txt" || { cat "$TMP/o.txt"; fail "module\`function frames"; }
"$SCORCH" export -f speedscope -i "$TMP/f.folded" -o "$TMP/f.json" || fail "export from folded"
note "flamegraph, folded and export read folded stacks; module\`function frames keep their module"
