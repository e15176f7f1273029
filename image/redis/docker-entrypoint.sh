#!/bin/bash
# Entrypoint of the project's Redis image (image/redis.yaml), built from
# Debian's redis-server package, for the replication channel of Synapse's
# workers:
#   REDIS_PASSWORD (or REDIS_PASSWORD_FILE)  requirepass (default: none)
# redis-server runs in the foreground as PID 1 on every address, without
# persistence (replication is a live channel: nothing to keep); arguments
# after "redis-server" are passed on to it. The password goes in through
# the configuration on standard input, never on the command line (/proc).
set -Eeuo pipefail

die() { printf 'entrypoint: error: %s\n' "$*" >&2; exit 2; }

if [ -n "${REDIS_PASSWORD:-}" ] && [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	die "both REDIS_PASSWORD and REDIS_PASSWORD_FILE are set; set only one"
fi
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	[ -r "$REDIS_PASSWORD_FILE" ] || die "REDIS_PASSWORD_FILE: cannot read $REDIS_PASSWORD_FILE"
	REDIS_PASSWORD=$(<"$REDIS_PASSWORD_FILE")
fi
password=${REDIS_PASSWORD:-}
unset REDIS_PASSWORD REDIS_PASSWORD_FILE
case $password in
*'"'* | *\\* | *$'\n'*) die "REDIS_PASSWORD: expected no double quote, backslash or newline" ;;
esac

if [ "${1:-}" != redis-server ]; then
	exec "$@"
fi
shift
config="bind * -::*
port 6379
protected-mode no
dir /var/lib/redis
save \"\"
appendonly no
daemonize no
logfile \"\""
if [ -n "$password" ]; then
	config+=$'\n'"requirepass \"$password\""
fi
exec redis-server - "$@" <<<"$config"
