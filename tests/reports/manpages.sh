#!/bin/bash
# Every command's man page: its SYNOPSIS lines are the command's --help Usage lines (the first after
# "Usage: ", the others indented below it), and every long option in --help is documented in the page.
source "$(dirname "$0")/lib.bash"

for cmd in record report folded info flamegraph export diff symbolize top dump; do
	page=$ROOT/man/scorch-$cmd.1
	[ -f "$page" ] || fail "no man page man/scorch-$cmd.1"
	syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' "$page" | sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g')
	usage=$("$SCORCH" "$cmd" --help | awk '/^Usage: / { sub(/^Usage: /, ""); print; on = 1; next }
		on && /^       scorch / { sub(/^ +/, ""); print; next } { on = 0 }')
	[ "$syn" = "$usage" ] || fail "scorch-$cmd.1 SYNOPSIS '$syn' is not the Usage line '$usage'"
	for opt in $("$SCORCH" "$cmd" --help | grep -o -- '--[a-z-]*' | sort -u); do
		grep -qF -- "\\fB$(sed 's/-/\\-/g' <<<"$opt")\\fR" "$page" || fail "scorch-$cmd.1 does not document $opt"
	done
done
echo "SYNOPSIS and options agree with --help"
