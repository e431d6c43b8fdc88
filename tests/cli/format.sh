#!/bin/bash
# src/ is formatted as .clang-format says (clang-format, installed by make test): a change that is
# not fails here, with the command that fixes it.
set -u
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then
	echo "FAIL format: clang-format is not installed (make test installs it)"
	exit 0
fi
bad=$(for f in src/*/*.[ch]; do clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -z "$bad" ]; then
	echo "PASS format: src/ follows .clang-format ($(clang-format --version | grep -o 'version [0-9.]*'))"
else
	echo "FAIL format: not formatted as .clang-format says: $(echo $bad) (run: clang-format -i $(echo $bad))"
fi
