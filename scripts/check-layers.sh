#!/bin/bash
# check-layers.sh - check src/'s #include lines against the layering rule in src/README.md.
#
#   scripts/check-layers.sh [SRC]      (SRC defaults to src/ of this repository)
#
# src/ is split into rooms, one directory per pipeline stage. src/README.md lists each room with the
# rooms it may include, in a block fenced as ```layers; a header is found by its name in the rooms
# (header names are unique across src/). An include of a header of another room that the rule does not
# allow is an arrow pointing back up the pipeline: each one is printed, and the exit status is 1.
# Headers outside src/ (include/, generated skeletons, system headers) are not checked.
set -u
SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)/src}
rules=$SRC/README.md
[ -f "$rules" ] || { echo "check-layers: no rule file '$rules'" >&2; exit 2; }

declare -A allowed room_of
rooms=$(awk '/^```layers/ { on = 1; next } /^```/ { on = 0 } on && NF' "$rules")
[ -n "$rooms" ] || { echo "check-layers: no \`\`\`layers block in '$rules'" >&2; exit 2; }
while read -r room colon deps; do
	[ "$colon" = ":" ] || { echo "check-layers: bad rule line '$room $colon $deps' in '$rules'" >&2; exit 2; }
	[ -d "$SRC/$room" ] || { echo "check-layers: the rule names room '$room', but '$SRC/$room' is not a directory" >&2; exit 2; }
	allowed[$room]=" $deps "
done <<<"$rooms"

for f in "$SRC"/*/*; do
	room=$(basename "$(dirname "$f")")
	[ -n "${allowed[$room]+x}" ] || { echo "check-layers: '$f' is in room '$room', which the rule does not name" >&2; exit 2; }
	[[ $f == *.h ]] || continue
	name=$(basename "$f")
	[ -z "${room_of[$name]+x}" ] || { echo "check-layers: two headers named '$name': ${room_of[$name]} and $room" >&2; exit 2; }
	room_of[$name]=$room
done
for f in "$SRC"/*.c "$SRC"/*.h; do
	[ -e "$f" ] && { echo "check-layers: '$f' is in no room: put it in a directory of src/" >&2; exit 2; }
done

bad=0
for f in "$SRC"/*/*.[ch]; do
	room=$(basename "$(dirname "$f")")
	while IFS=: read -r line hdr; do
		to=${room_of[$hdr]:-}
		[ -n "$to" ] && [ "$to" != "$room" ] || continue
		if [[ ${allowed[$room]} != *" $to "* ]]; then
			echo "check-layers: ${f#"$SRC"/}:$line includes $to/$hdr: room '$room' may not include room '$to' (src/README.md)"
			bad=1
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done
exit $bad
