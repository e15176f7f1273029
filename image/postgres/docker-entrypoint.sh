#!/bin/bash
# Entrypoint of the project's PostgreSQL test image (image/postgres.yaml),
# built from Debian's postgresql package. It honours the environment of the
# official postgres image that docker-compose.yml relies on:
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)  superuser password
#   POSTGRES_USER      superuser name (default postgres)
#   POSTGRES_DB        database created on first start (default: POSTGRES_USER)
#   POSTGRES_INITDB_ARGS  extra initdb arguments, split on spaces
#   POSTGRES_HOST_AUTH_METHOD  auth for host connections (default scram-sha-256)
#   PGDATA             data folder (default /var/lib/postgresql/data)
# The cluster is created on first start only (an empty PGDATA), then
# /docker-entrypoint-initdb.d/*.sql and *.sh run against a server that
# listens on no TCP port, so the TCP health check only passes once the real
# server is up. Finally postgres is exec'ed and is PID 1.
set -Eeuo pipefail

# log, die, file_env (image/entrypoint/lib.sh)
# shellcheck source=../entrypoint/lib.sh
. /usr/local/lib/docker-entrypoint-lib.sh

export PGDATA=${PGDATA:-/var/lib/postgresql/data}
socket_dir=/var/run/postgresql

# `docker run IMAGE -c foo=bar` means postgres with those options.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi
if [ "${1:-}" != postgres ]; then
	exec "$@"
fi

# Started as root (e.g. a bind mount owned by someone else): fix the folders,
# then run this script again as postgres.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" "$socket_dir"
	if [ "$(stat -c %U "$PGDATA")" != postgres ]; then
		chown -R postgres:postgres "$PGDATA"
	fi
	chmod 0700 "$PGDATA"
	chown postgres:postgres "$socket_dir"
	chmod 3777 "$socket_dir"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

file_env POSTGRES_PASSWORD
export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

[ -w "$PGDATA" ] || die "PGDATA: $PGDATA is not writable by uid $(id -u)"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
		die "POSTGRES_PASSWORD: the database is not initialised and no superuser password is set (set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust)"
	fi
	log "initialising the cluster in $PGDATA (initdb ${POSTGRES_INITDB_ARGS:-})"
	pwfile=$(mktemp)
	trap 'rm -f "$pwfile"' EXIT
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
	# POSTGRES_INITDB_ARGS is split on spaces, as the official image does.
	set -f
	# shellcheck disable=SC2086
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
		--auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-} >&2
	set +f
	rm -f "$pwfile"
	trap - EXIT
	printf '\n# entrypoint: connections from anywhere\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
	printf "\n# entrypoint\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	# A server on the Unix socket only, for the database and init scripts.
	pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$socket_dir" start >&2
	psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --host "$socket_dir" --username "$POSTGRES_USER")
	if [ "$POSTGRES_DB" != postgres ]; then
		log "creating database $POSTGRES_DB"
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'SQL' >&2
			CREATE DATABASE :"db";
		SQL
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sh) log "running $f"; . "$f" ;;
		*.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" >&2 ;;
		*) if [ -e "$f" ]; then log "ignoring $f"; fi ;;
		esac
	done
	pg_ctl -D "$PGDATA" -w -m fast stop >&2
	log "initialisation done"
else
	log "$PGDATA holds a cluster (PostgreSQL $(cat "$PGDATA/PG_VERSION")): not initialising"
fi

shift
exec postgres -D "$PGDATA" -c unix_socket_directories="$socket_dir" "$@"
