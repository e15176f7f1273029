#!/bin/bash
# Entrypoint of the project's OpenLDAP test image (image/ldap.yaml), built
# from Debian's slapd package. Variables:
#   LDAP_DOMAIN          the directory's domain (default example.org), so the
#                        base DN is dc=example,dc=org
#   LDAP_ADMIN_PASSWORD  (or LDAP_ADMIN_PASSWORD_FILE) password of
#                        cn=admin,<base>; required on first start
#   LDAP_USER            uid of the user created on first start, as
#                        uid=<user>,ou=people,<base> (inetOrgPerson); optional
#   LDAP_USER_PASSWORD   (or _FILE) that user's password; required with LDAP_USER
#   LDAP_USER_MAIL, LDAP_USER_NAME  its mail and cn (default <user>@<domain>, <user>)
# On first start (an empty /var/lib/ldap) the directory is created with
# slapadd, plus every /docker-entrypoint-initdb.d/*.ldif; then slapd is
# exec'ed as PID 1, dropping to the openldap user itself.
set -Eeuo pipefail

# log, die, file_env (image/entrypoint/lib.sh)
# shellcheck source=../entrypoint/lib.sh
. /usr/local/lib/docker-entrypoint-lib.sh

if [ "${1:-}" != slapd ]; then
	exec "$@"
fi
shift
[ "$(id -u)" = 0 ] || die "start the container as root: slapd binds port 389, then runs as openldap"

file_env LDAP_ADMIN_PASSWORD
file_env LDAP_USER_PASSWORD
domain=${LDAP_DOMAIN:-example.org}
[[ $domain =~ ^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$ ]] || die "LDAP_DOMAIN: $domain is not a domain name (letters, digits, - and dots)"
base=dc=${domain//./,dc=}
first=${domain%%.*}
data=/var/lib/ldap
# Kept in the volume, beside the database it describes.
conf=$data/slapd.conf

mkdir -p "$data" /run/slapd
chown openldap:openldap "$data" /run/slapd
chmod 0700 "$data"

if [ ! -s "$data/data.mdb" ]; then
	[ -n "${LDAP_ADMIN_PASSWORD:-}" ] || die "LDAP_ADMIN_PASSWORD: the directory is not initialised and no admin password is set"
	if [ -n "${LDAP_USER:-}" ]; then
		[[ $LDAP_USER =~ ^[A-Za-z0-9._-]+$ ]] || die "LDAP_USER: $LDAP_USER is not a plain uid (letters, digits, . _ -)"
		[ -n "${LDAP_USER_PASSWORD:-}" ] || die "LDAP_USER_PASSWORD: required with LDAP_USER"
	fi
	log "creating the directory $base in $data"
	cat >"$conf" <<CONF
# Written by the entrypoint on first start.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile /run/slapd/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "$base"
rootdn "cn=admin,$base"
rootpw $(slappasswd -s "$LDAP_ADMIN_PASSWORD")
directory $data
index objectClass eq
index uid eq
# Passwords are for binding only; everything else is readable, so that a
# user who bound can read its own attributes (Synapse's ldap3 module does).
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
CONF
	chmod 0600 "$conf"
	seed=$(mktemp)
	{
		printf 'dn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: %s\ndc: %s\n\n' "$base" "$domain" "$first"
		printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$base"
		if [ -n "${LDAP_USER:-}" ]; then
			printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s\nuserPassword: %s\n\n' \
				"$LDAP_USER" "$base" "$LDAP_USER" "${LDAP_USER_NAME:-$LDAP_USER}" "$LDAP_USER" \
				"${LDAP_USER_MAIL:-$LDAP_USER@$domain}" "$(slappasswd -s "$LDAP_USER_PASSWORD")"
		fi
	} >"$seed"
	slapadd -f "$conf" -l "$seed"
	rm -f "$seed"
	for f in /docker-entrypoint-initdb.d/*.ldif; do
		[ -e "$f" ] || continue
		log "loading $f"
		slapadd -f "$conf" -l "$f"
	done
	chown -R openldap:openldap "$data"
	[ -z "${LDAP_USER:-}" ] || log "created uid=$LDAP_USER,ou=people,$base"
elif [ ! -s "$conf" ]; then
	die "$data holds a database but not its slapd.conf: start with an empty volume"
fi
unset LDAP_ADMIN_PASSWORD LDAP_USER_PASSWORD

log "starting slapd for $base on ldap:///"
# -d 0: stay in the foreground (PID 1) and log to stderr.
exec slapd -d "${SLAPD_DEBUG:-0}" -h ldap:/// -u openldap -g openldap -f "$conf" "$@"
