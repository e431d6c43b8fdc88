# Shared by the Python e2e tests (python_*.sh): sourced after lib.bash, not run.
#
# Debian's /usr/bin/python3.11 (its interpreter linked into the executable) is required: make test
# installs python3.11. Every pyenv build of 3.8-3.13 found under $(pyenv root)/versions (libpython3.X.so)
# is tested too; a version that is absent is skipped loudly, by name.
[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing (make test installs python3.11)"

# PYTHONS: the interpreters to test, Debian's first.
PYTHONS=/usr/bin/python3.11
PYENV_ROOT=${PYENV_ROOT:-$(command -v pyenv >/dev/null && pyenv root || echo /root/.pyenv)}
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
	b=$(ls -d "$PYENV_ROOT"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V | tail -1)
	if [ -n "$b" ] && [ -x "$b" ]; then
		PYTHONS="$PYTHONS $b"
	else
		echo "SKIP: *** no pyenv Python $v under $PYENV_ROOT/versions: its frames were not tested ***" >&2
	fi
done

# python_tag PYTHON: "3.11-usr", "3.12-3.12.1": names a profile after its interpreter.
python_tag() {
	echo "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-$(basename "$(dirname "$(dirname "$1")")")"
}
