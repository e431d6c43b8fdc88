# The profile is created safely: a symlink planted at the output path is replaced, not followed; the
# mode is 0644 or stricter; under sudo the file belongs to the invoking user.
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
exit 0
