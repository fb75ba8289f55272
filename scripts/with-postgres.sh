#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: initdb in a temp dir, a free loopback port,
# ONBOARD_TEST_POSTGRES_URL pointing at it, and the server stopped and deleted afterwards, also
# when the command fails. PostgreSQL refuses to run as root, so as root it runs as `postgres`
# (or a dedicated system user created for it). fsync is off (tests need no durability) unless
# PG_FSYNC=on, as the benchmarks set it.
set -euo pipefail

find_bin() {
  command -v "$1" 2>/dev/null || ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1
}
INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl)
[ -x "$INITDB" ] && [ -x "$PG_CTL" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_db_user=()
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || { user=onboard-pg; id "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"; }
  as_db_user=(runuser -u "$user" --)
fi

port=55432
while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

dir=$(mktemp -d)
cleanup() {
  "${as_db_user[@]}" "$PG_CTL" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
mkdir -p "$dir/data" "$dir/sock"
[ ${#as_db_user[@]} -eq 0 ] || chown -R "${as_db_user[2]}" "$dir"
"${as_db_user[@]}" "$INITDB" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${as_db_user[@]}" "$PG_CTL" -D "$dir/data" -l "$dir/postgres.log" -w \
  -o "-k $dir/sock -p $port -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=300" start >/dev/null ||
  { cat "$dir/postgres.log" >&2; exit 1; }

export ONBOARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
export ONBOARD_REQUIRE_POSTGRES=1
echo "[with-postgres] PostgreSQL on 127.0.0.1:$port" >&2
"$@"
