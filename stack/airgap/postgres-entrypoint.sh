#!/usr/bin/env bash
# Entrypoint of the PostgreSQL stand-in image: the official image's contract, written for Debian's packages.
#   first start (no $PGDATA/PG_VERSION): initdb as POSTGRES_USER with POSTGRES_PASSWORD, accept remote
#   connections with POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), create POSTGRES_DB, run
#   /docker-entrypoint-initdb.d/*.sh and *.sql, then start the server in the foreground.
set -Eeuo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA POSTGRES_USER POSTGRES_DB

log() { printf '%s [entrypoint] %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# Options given as the first argument go to postgres, like `docker run image -c shared_buffers=256MB`.
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  # Make the data folder (often a fresh named volume owned by root) the server's, then drop privileges.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
    log "Database is uninitialized and superuser password is not specified."
    log "You must specify POSTGRES_PASSWORD to a non-empty value for the superuser,"
    log "or set POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password (not recommended)."
    exit 1
  fi
  log "initialising a new cluster in $PGDATA for user $POSTGRES_USER"
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image.
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  {
    echo
    echo "# Added by the entrypoint: accept connections from other containers."
    echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.auto.conf"

  # A temporary server on the Unix socket only, so nobody connects before the set-up is finished.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname postgres)
  if [ "$POSTGRES_DB" != 'postgres' ]; then
    # psql interpolates :"db" (quoted identifier) only in input it reads, not in -c.
    echo 'CREATE DATABASE :"db";' | "${psql[@]}" --set db="$POSTGRES_DB" >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) log "running $f"; . "$f" ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      *) if [ -e "$f" ]; then log "ignoring $f"; fi ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "initialisation complete; starting the server"
fi

exec "$@"
