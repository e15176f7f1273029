# Shell functions of the test images' entrypoints (image/ldap and
# image/postgres), installed as /usr/local/lib/docker-entrypoint-lib.sh and
# sourced by each: one copy of the rules for their variables.

log() { printf '%s entrypoint: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# file_env VAR: VAR may be given as VAR_FILE (a path to read), not both.
file_env() {
	local var=$1 file_var="${1}_FILE"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set; set only one"
	fi
	if [ -n "${!file_var:-}" ]; then
		[ -r "${!file_var}" ] || die "$file_var: cannot read ${!file_var}"
		export "$var"="$(<"${!file_var}")"
		unset "$file_var"
	fi
}
