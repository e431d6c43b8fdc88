#!/bin/bash
# The man pages of the reading commands: each SYNOPSIS line is the command's --help Usage line, and
# every long option in --help is documented in the page.
source "$(dirname "$0")/lib.bash"

for cmd in report folded info flamegraph export; do
	page=$ROOT/man/scorch-$cmd.1
	[ -f "$page" ] || fail "no man page man/scorch-$cmd.1"
	syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' "$page" | sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g')
	usage=$("$SCORCH" "$cmd" --help | sed -n 's/^Usage: //p')
	[ "$syn" = "$usage" ] || fail "scorch-$cmd.1 SYNOPSIS '$syn' is not the Usage line '$usage'"
	for opt in $("$SCORCH" "$cmd" --help | grep -o -- '--[a-z-]*' | sort -u); do
		grep -qF -- "\\fB$(sed 's/-/\\-/g' <<<"$opt")\\fR" "$page" || fail "scorch-$cmd.1 does not document $opt"
	done
done
echo "SYNOPSIS and options agree with --help"
