#!/bin/bash
# The bash completion script completes commands and each command's options from scorch itself, and
# make install puts it (with the binary and the man pages) under DESTDIR.
set -u
cd "$(dirname "$0")/../.."
SCORCH=${SCORCH:-$PWD/build/scorch}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin"
ln -s "$SCORCH" "$T/bin/scorch"

complete_words() { # complete_words WORD... : what completing the last word offers
	PATH="$T/bin:$PATH" bash -c '
		source scripts/scorch-completion.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_scorch
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

check() { # check NAME EXPECTED-WORD WORD...
	local name=$1 want=$2
	shift 2
	if complete_words "$@" | grep -qx -- "$want"; then
		echo "PASS completion: $name"
	else
		echo "FAIL completion: $name (wanted '$want', got: $(complete_words "$@" | tr '\n' ' '))"
	fi
}

check "commands" record scorch re
check "commands, report" report scorch rep
check "record options" --freq scorch record --fr
check "record long option --no-inherit" --no-inherit scorch record --no-
check "record long option --buffer-size" --buffer-size scorch record --buf
check "record long option --idle" --idle scorch record --id
check "record --buffer-size offers sizes" 64M scorch record --buffer-size 6
check "report options" --sort scorch report --so
check "symbolize long option --no-sandbox" --no-sandbox scorch symbolize --no-s
check "report long option --no-sandbox" --no-sandbox scorch report --no-s
check "help topics" folded scorch help fo
check "diff long option --new" --new scorch diff --ne
check "diff short option -N (a new run)" -N scorch diff -
check "diff short option -n (rows, as in report)" -n scorch diff -
if complete_words scorch record --fr | grep -qx -- --sort; then
	echo "FAIL completion: record offers report's --sort"
else
	echo "PASS completion: options are per command"
fi

if make --no-print-directory -s install DESTDIR="$T/root" prefix=/usr >"$T/log" 2>&1 &&
	[ -x "$T/root/usr/bin/scorch" ] && [ -f "$T/root/usr/share/bash-completion/completions/scorch" ] &&
	[ -f "$T/root/usr/share/man/man1/scorch-record.1" ] && [ -f "$T/root/usr/share/man/man5/scorch-format.5" ]; then
	echo "PASS make install DESTDIR=... prefix=/usr installs the binary, man pages and completion"
else
	echo "FAIL make install DESTDIR=... prefix=/usr"
	sed 's/^/      /' "$T/log" | tail -5
fi
