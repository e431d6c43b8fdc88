#!/bin/bash
# Run the CLI cases in tests/cli/cases against $SCORCH: exit code, a pattern on stderr, nothing on
# stdout when the command fails, and no output file left behind in $T/out. Prints PASS/FAIL lines.
set -u
cd "$(dirname "$0")/../.."
SCORCH=${SCORCH:-$PWD/build/scorch}
SYNTH=${SYNTH:-$PWD/${OUT:-build}/tests/synth}
H=$PWD/tests/fuzz/seeds/pfile # crafted hostile profiles among the seeds

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir -p "$T/out" "$T/cwd"

# Fixtures.
"$SYNTH" -o "$T/good.prof" --stacks 50 --samples 5000 || { echo "FAIL cannot build fixtures with $SYNTH"; exit 1; }
"$SYNTH" -o "$T/unfinished.prof" --stacks 50 --samples 5000 --unfinished
size=$(stat -c %s "$T/good.prof")
head -c $((size - 7)) "$T/good.prof" >"$T/truncated.prof"
: >"$T/empty.prof"
printf 'this is not a profile\n' >"$T/text.prof"
cp "$T/good.prof" "$T/corrupt.prof"
printf '\xff\xff\xff\xff' | dd of="$T/corrupt.prof" bs=1 seek=$((size / 2)) conv=notrunc status=none
cp "$T/good.prof" "$T/v9.prof"
printf '\x09' | dd of="$T/v9.prof" bs=1 seek=8 conv=notrunc status=none
# Folded stacks for diff: a grows from 2% to 8% of the samples, b shrinks by 4 points, c by 2.
printf 'main;a 20\nmain;b 480\nmain;c 500\n' >"$T/base.folded"
printf 'main;a 80\r\nmain;b 440\r\n\r\nmain;c 480\r\n' >"$T/new.folded"
printf 'main;a 1\nmain;b 2 3\n' >"$T/twocounts.folded"

# The cgroup v2 mount ($CG in cases): /sys/fs/cgroup, or /sys/fs/cgroup/unified beside cgroup v1.
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=${CG:-/sys/fs/cgroup}

is_root=0
[ "$(id -u)" = 0 ] && is_root=1

n=0
while IFS= read -r line; do
	case "$line" in "" | "#"*) continue ;; esac
	n=$((n + 1))
	tag=""
	case "$line" in "@"*) tag=${line%% *}; line=${line#* } ;; esac
	want=$(sed -E 's/^ *([0-9]+) *\|.*/\1/' <<<"$line")
	pattern=$(sed -E 's/^[^|]*\| *(.*[^ ]|) *\|.*$/\1/' <<<"$line")
	args=$(sed -E 's/^[^|]*\|[^|]*\| *//' <<<"$line")
	pattern=${pattern//\$T/$T}
	pattern=${pattern//\$CG/$CG}
	name="scorch $args"
	runner=()
	case "$tag" in
	@root) [ $is_root = 1 ] || { echo "PASS $name (skipped: needs root)"; continue; } ;;
	@nobody)
		[ $is_root = 1 ] || { echo "PASS $name (skipped: needs root to drop privileges)"; continue; }
		runner=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all) ;;
	esac
	eval "set -- $args"
	(cd "$T/cwd" && timeout -k 5 30 "${runner[@]}" "$SCORCH" "$@" >"$T/stdout" 2>"$T/stderr" </dev/null)
	got=$?
	why=""
	[ "$got" = "$want" ] || why="exit $got, want $want"
	if [ -z "$why" ] && [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$T/stderr"; then
		why="stderr does not match /$pattern/"
	fi
	if [ -z "$why" ] && [ "$want" != 0 ] && [ -s "$T/stdout" ]; then
		why="wrote to stdout on failure"
	fi
	if [ -z "$why" ] && [ -n "$(ls -A "$T/out")" ]; then
		why="left output behind: $(ls -A "$T/out" | tr '\n' ' ')"
		rm -f "$T"/out/* "$T"/out/.[!.]* 2>/dev/null
	fi
	if [ -z "$why" ] && [ "$want" = 0 ] && [ -n "$(ls -A "$T/cwd")" ]; then
		why="left files in the working directory"
	fi
	if [ -z "$why" ]; then
		echo "PASS $name"
	else
		echo "FAIL $name: $why"
		sed 's/^/      stderr: /' "$T/stderr" | head -5
	fi
done <tests/cli/cases
[ $n -gt 0 ] || { echo "FAIL no cases read"; exit 1; }

# Every man page's SYNOPSIS says what the command's --help says, word for word.
synopsis_help() { # the Usage lines of --help, without "Usage:", whitespace folded
	"$SCORCH" "$@" --help 2>&1 | awk '/^Usage:/ { u = 1; sub(/^Usage:/, "") } u && /^$/ { exit } u' |
		sed -E 's/^ +//; s/ +/ /g; s/ $//'
}
synopsis_man() { # the SYNOPSIS section of a man page, whitespace folded
	MANWIDTH=200 man -l "$1" 2>/dev/null | col -b |
		awk '/^SYNOPSIS/ { s = 1; next } s && /^[A-Z]/ { exit } s && NF' | sed -E 's/^ +//; s/ +/ /g; s/ $//'
}
if command -v man >/dev/null && command -v col >/dev/null; then
	for page in man/scorch*.1; do
		cmd=$(basename "$page" .1)
		cmd=${cmd#scorch}
		cmd=${cmd#-}
		want=$(synopsis_man "$page")
		got=$(synopsis_help $cmd)
		if [ -n "$want" ] && [ "$want" = "$got" ]; then
			echo "PASS man page SYNOPSIS of $page matches --help"
		else
			echo "FAIL man page SYNOPSIS of $page does not match 'scorch $cmd --help'"
			diff <(echo "$want") <(echo "$got") | sed 's/^/      /' | head -10
		fi
	done
else
	echo "FAIL man or col missing: cannot check the man pages against --help"
fi
