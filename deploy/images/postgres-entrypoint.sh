#!/bin/sh
# What the official postgres image's entrypoint does, for its Debian stand-in: on a first start
# (an empty PGDATA) initdb with POSTGRES_USER and POSTGRES_PASSWORD, create POSTGRES_DB, allow
# password logins from the network; then run the command as the postgres user.
set -eu
if [ "$(id -u)" = 0 ]; then
    install -d -o postgres -g postgres -m 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user="${POSTGRES_USER:-postgres}"
    password_file=$(mktemp)
    printf '%s' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" > "$password_file"
    initdb -D "$PGDATA" -U "$user" --pwfile="$password_file" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    database="${POSTGRES_DB:-$user}"
    if [ "$database" != postgres ]; then
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
        psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE \"$database\"" >/dev/null
        pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    echo "$0: initialised $PGDATA (user $user, database $database)"
fi
exec "$@"
