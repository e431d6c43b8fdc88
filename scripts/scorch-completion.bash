# bash completion for scorch. Commands and options are read from scorch's own --help, so this file
# never goes stale when commands or options are added.
_scorch() {
	local cur prev cmd words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$(scorch --help 2>/dev/null | awk '/^Commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 } c && /^$/ { c = 0 }')
		COMPREPLY=($(compgen -W "$words help --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	if [ "$cmd" = help ]; then
		words=$(scorch --help 2>/dev/null | awk '/^Commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	case "$prev" in
	-i | --input | -o | --output | -e | --exe)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--cgroup | --debug-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	-m | --buffer-size)
		COMPREPLY=($(compgen -W "16M 64M 256M 1G" -- "$cur"))
		return ;;
	-p | --pid)
		COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" -- "$cur"))
		return ;;
	esac
	if [[ "$cur" == -* ]]; then
		words=$(scorch "$cmd" --help 2>/dev/null | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' ,' | sort -u)
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _scorch scorch
