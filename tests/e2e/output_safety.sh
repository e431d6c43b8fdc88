# The profile is created safely: a symlink planted at the output path is replaced, not followed; the
# mode is 0644 or stricter; under sudo the file belongs to the invoking user. What is at the path is
# never damaged: a character device, a FIFO, standard output stay what they are and get the data; a
# regular file is replaced atomically. A path that cannot take the profile is refused before any
# sampling; one that becomes unusable during the recording keeps the data under the temporary name.
# Device nodes and /dev/stdout are private ones in $TMP: a broken scorch cannot damage the machine.
. "$(dirname "$0")/lib.bash"

echo "precious" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/out.prof"
"$SCORCH" record -q -F 99 -o "$TMP/out.prof" -- "$WL/demo" 0.3 || fail "record failed"
[ "$(cat "$TMP/victim")" = precious ] || fail "the planted symlink was followed: the victim was overwritten"
[ -f "$TMP/out.prof" ] && [ ! -L "$TMP/out.prof" ] || fail "the output is not a regular file"
mode=$(stat -c %a "$TMP/out.prof")
[ $((8#$mode & 8#022)) = 0 ] || fail "the output is group/other writable: mode $mode"
note "mode $mode, symlink replaced"

(umask 077 && "$SCORCH" record -q -F 99 -o "$TMP/private.prof" -- "$WL/demo" 0.3) || fail "record failed"
[ "$(stat -c %a "$TMP/private.prof")" = 600 ] || fail "umask 077 not honoured: $(stat -c %a "$TMP/private.prof")"

SUDO_UID=65534 SUDO_GID=65534 "$SCORCH" record -q -F 99 -o "$TMP/sudo.prof" -- "$WL/demo" 0.3 || fail "record failed"
[ "$(stat -c %u:%g "$TMP/sudo.prof")" = 65534:65534 ] ||
	fail "under sudo the file belongs to $(stat -c %u:%g "$TMP/sudo.prof"), not the invoking user"

no_partials() { # DIR WHAT
	! ls -A "$1" | grep -q '\.partial-' || fail "$2 left a temporary file: $(ls -A "$1" | grep '\.partial-')"
}

# A character device: /dev/null's numbers, made here (on a file system that allows devices).
devdir=$TMP
if findmnt -no OPTIONS -T "$TMP" | tr , '\n' | grep -qx nodev; then
	devdir=$TMP/devfs
	mkdir "$devdir"
	mount -t tmpfs -o dev,size=64k tmpfs "$devdir" || fail "$TMP is nodev and no tmpfs can be mounted"
	trap 'cleanup_pids; umount "$TMP/devfs" 2>/dev/null; rm -rf "$TMP"' EXIT
fi
mknod "$devdir/null" c 1 3 || fail "cannot make a private device node"
is_null() { [ -c "$devdir/null" ] && [ "$(stat -c %t:%T "$devdir/null")" = 1:3 ] || fail "$1 replaced the device node: $(ls -l "$devdir/null")"; }
"$SCORCH" folded -i "$TMP/private.prof" -o "$devdir/null" || fail "folded -o a character device failed"
is_null "folded -o"
"$SCORCH" record -q -F 99 -o "$devdir/null" -- "$WL/demo" 0.3 || fail "record -o a character device failed"
is_null "record -o"
no_partials "$devdir" "writing to a device"
note "a character device is written in place"

# A FIFO with a reader: the reader gets the whole profile, the FIFO stays.
mkfifo "$TMP/fifo"
timeout 60 cat "$TMP/fifo" >"$TMP/from_fifo.prof" &
reader=$!
BG_PIDS+=("$reader")
"$SCORCH" record -q -F 99 -o "$TMP/fifo" -- "$WL/demo" 0.3 || fail "record -o a FIFO failed"
wait "$reader" || fail "the FIFO's reader got nothing (cat exited with $?)"
[ -p "$TMP/fifo" ] || fail "the FIFO was replaced: $(ls -l "$TMP/fifo")"
"$SCORCH" report -i "$TMP/from_fifo.prof" >/dev/null || fail "the FIFO's reader did not get a whole profile"
no_partials "$TMP" "writing to a FIFO"
note "a FIFO's reader gets the profile: $(stat -c %s "$TMP/from_fifo.prof") bytes"

# /dev/stdout (a private link to /proc/self/fd/1) into a pipe.
ln -s /proc/self/fd/1 "$TMP/stdout"
"$SCORCH" record -q -F 99 -o "$TMP/stdout" -- "$WL/demo" 0.5 | "$SCORCH" report -i - >"$TMP/piped.txt"
[ "${PIPESTATUS[*]}" = "0 0" ] || fail "record -o /dev/stdout | report -i - failed: ${PIPESTATUS[*]}"
[ -L "$TMP/stdout" ] || fail "the /dev/stdout link was replaced: $(ls -l "$TMP/stdout")"
grep -q '^# samples:' "$TMP/piped.txt" || fail "no report through the pipe"
no_partials "$TMP" "writing to /dev/stdout"
note "/dev/stdout into a pipe: $(grep '^# samples:' "$TMP/piped.txt")"

# A regular file is replaced atomically: untouched until the recording ends, then a new inode.
echo old >"$TMP/reg.prof"
ino=$(stat -c %i "$TMP/reg.prof")
"$SCORCH" record -q -F 99 -o "$TMP/reg.prof" -- "$WL/demo" 2 &
rec=$!
sleep 0.5
[ "$(cat "$TMP/reg.prof")" = old ] || fail "the old file was changed while the recording ran"
wait "$rec" || fail "record over a regular file failed"
[ "$(stat -c %i "$TMP/reg.prof")" != "$ino" ] || fail "the old file was rewritten, not replaced"
"$SCORCH" report -i "$TMP/reg.prof" >/dev/null || fail "the replaced file is not a whole profile"

# Unusable paths are refused before sampling starts (the command never runs).
mkdir "$TMP/adir" "$TMP/ro"
mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" || fail "cannot mount a read-only tmpfs"
trap 'cleanup_pids; umount "$TMP/devfs" "$TMP/ro" 2>/dev/null; rm -rf "$TMP"' EXIT
for case in "adir|Is a directory" "nodir/x.prof|No such file or directory" "ro/x.prof|Read-only file system"; do
	out=$TMP/${case%%|*}
	rm -f "$TMP/ran"
	if "$SCORCH" record -F 99 -o "$out" -- sh -c ": >'$TMP/ran'; sleep 5" 2>"$TMP/err"; then
		fail "record -o $out succeeded"
	fi
	grep -q "${case#*|}" "$TMP/err" || fail "record -o $out: unexpected message: $(cat "$TMP/err")"
	! grep -q recording "$TMP/err" && [ ! -e "$TMP/ran" ] || fail "record -o $out started recording"
	no_partials "$TMP" "record -o $out"
done
[ -d "$TMP/adir" ] && [ -z "$(ls -A "$TMP/adir")" ] || fail "the directory was changed"
note "directory, missing parent, read-only parent: refused before sampling"

# The path becomes a directory during the recording: the data is kept under the temporary name.
"$SCORCH" record -F 99 -o "$TMP/late.prof" -- "$WL/demo" 2 2>"$TMP/err" &
rec=$!
for _ in $(seq 100); do grep -q recording "$TMP/err" && break; sleep 0.1; done
grep -q recording "$TMP/err" || fail "the recording did not start: $(cat "$TMP/err")"
mkdir "$TMP/late.prof"
if wait "$rec"; then fail "record succeeded although its output path became a directory"; fi
kept=$(ls "$TMP"/late.prof.partial-* 2>/dev/null)
[ -n "$kept" ] && [ -f "$kept" ] || fail "the recording was thrown away: $(cat "$TMP/err")"
grep -qF "kept as '$kept'" "$TMP/err" || fail "the message does not say where the data is: $(cat "$TMP/err")"
n=$(samples "$kept")
[ "$n" -gt 0 ] || fail "the kept file has no samples"
"$SCORCH" report -i "$kept" >/dev/null || fail "the kept file is not a whole profile"
note "a directory made at the path meanwhile: $n samples kept in $(basename "$kept")"
exit 0
