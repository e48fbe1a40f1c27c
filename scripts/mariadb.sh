#!/usr/bin/env bash
# Run a command against a throwaway MariaDB server: `scripts/mariadb.sh COMMAND [ARGS...]`.
# The server lives in a temporary data directory, listens on 127.0.0.1 only, and is stopped
# and deleted when the command ends. The command gets DATABASE_URL pointing at it.
set -euo pipefail

MARIADBD="$(command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd 2>/dev/null || true)"
INSTALL_DB="$(command -v mariadb-install-db || command -v mysql_install_db || true)"
CLIENT="$(command -v mariadb || command -v mysql || true)"
if [[ -z "$MARIADBD" || -z "$INSTALL_DB" || -z "$CLIENT" ]]; then
    echo "mariadb.sh: MariaDB is not installed (Debian: apt-get install mariadb-server libmariadb-dev pkg-config)" >&2
    exit 127
fi

DATADIR="$(mktemp -d "${TMPDIR:-/tmp}/tahoe-mariadb.XXXXXX")"
PORT="${MARIADB_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
SOCKET="$DATADIR/mysqld.sock"
RUN_AS="$(id -un)"

cleanup() {
    if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATADIR"
}
trap cleanup EXIT

"$INSTALL_DB" --no-defaults --user="$RUN_AS" --datadir="$DATADIR/data" --auth-root-authentication-method=socket \
    --skip-test-db > "$DATADIR/install.log" 2>&1 || { cat "$DATADIR/install.log" >&2; exit 1; }

"$MARIADBD" --no-defaults --user="$RUN_AS" --datadir="$DATADIR/data" --socket="$SOCKET" \
    --port="$PORT" --bind-address=127.0.0.1 --pid-file="$DATADIR/mysqld.pid" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
    --skip-log-bin --log-error="$DATADIR/error.log" 2>>"$DATADIR/server.out" &
SERVER_PID=$!

for _ in $(seq 1 100); do
    "$CLIENT" --no-defaults -uroot -S "$SOCKET" -e "SELECT 1" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATADIR/error.log" >&2; exit 1; }
    sleep 0.2
done
"$CLIENT" --no-defaults -uroot -S "$SOCKET" -e "
    CREATE USER 'tahoe'@'127.0.0.1' IDENTIFIED BY 'tahoe';
    GRANT ALL PRIVILEGES ON *.* TO 'tahoe'@'127.0.0.1';
    CREATE DATABASE tahoe CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"

echo "mariadb.sh: MariaDB $("$CLIENT" --no-defaults -uroot -S "$SOCKET" -N -e 'SELECT VERSION()') on 127.0.0.1:$PORT" >&2
export DATABASE_URL="mysql://tahoe:tahoe@127.0.0.1:$PORT/tahoe"
set +e
"$@"
STATUS=$?
set -e
exit $STATUS
