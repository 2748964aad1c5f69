#!/usr/bin/env bash
# A throwaway PostgreSQL server for the benchmarks, started the way the store tests start
# theirs (tests/common/pg.rs): Debian's newest /usr/lib/postgresql/<major>/bin, a fresh
# cluster in a temporary directory, listening on a free port on 127.0.0.1 only, trust
# authentication (nothing but this machine's loopback can reach it), user `postgres`.
# initdb refuses to run as root, so as root (CI) the cluster belongs to `nobody` and
# initdb, pg_ctl and psql run as that user (runuser).
#
# Unlike the tests' server (fsync off), this one keeps PostgreSQL's durable defaults
# (fsync, synchronous_commit, full_page_writes on), as SQLite's file is (WAL, synchronous
# FULL): an ingest time compares like with like. PG_BENCH_OPTS adds server options
# (e.g. "-c shared_buffers=512MB").
#
# Two ways to use it:
#   source bench/pg.sh; trap pg_stop EXIT; trap 'exit 143' TERM INT HUP; pg_start
#                          (sets PG_URL, PG_DIR, PG_BIN; the signal traps make a kill run
#                          the EXIT trap too)
#       pg_createdb NAME   prints postgres://postgres@127.0.0.1:PORT/NAME (a new database)
#       pg_sql URL SQL     runs SQL on a database, prints the rows (`|` between columns)
#       pg_stop            stops the server and removes its directory (idempotent)
#   bench/pg.sh start      starts one, prints its URL (…/postgres) and directory
#   bench/pg.sh stop DIR   stops the one in DIR and removes DIR
# A start that fails removes what it made. Needs Debian's `postgresql` (`make setup`).

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
    echo "bench/pg.sh: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); \`make setup\` installs Debian's postgresql" >&2
    return 1
  fi
  echo "$found"
}

# Runs a command as the cluster's owner: `nobody` when we are root, else ourselves.
pg_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
  PG_BIN=$(pg_bin) || return 1
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/consentry-bench-pg-XXXXXX") || return 1
  chmod 755 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown nobody:nogroup "$PG_DIR"; fi
  if ! (cd "$PG_DIR" && pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
        -E UTF8 --locale=C.UTF-8 > "$PG_DIR/initdb.log" 2>&1); then
    echo "bench/pg.sh: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2
    rm -rf "$PG_DIR"; unset PG_DIR; return 1
  fi
  local try
  for try in 1 2 3; do
    PG_PORT=$(pg_free_port)
    # shellcheck disable=SC2086 # PG_BENCH_OPTS is a list of options
    if (cd "$PG_DIR" && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
          -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR ${PG_BENCH_OPTS:-}" start > /dev/null); then
      PG_URL="postgres://postgres@127.0.0.1:$PG_PORT"
      export PG_BIN PG_DIR PG_PORT PG_URL
      return 0
    fi
  done
  echo "bench/pg.sh: PostgreSQL did not start:" >&2; cat "$PG_DIR/postgres.log" >&2
  rm -rf "$PG_DIR"; unset PG_DIR; return 1
}

pg_stop() {
  local dir=${1:-${PG_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  local bin=${PG_BIN:-$(pg_bin)}
  if [ -f "$dir/data/postmaster.pid" ]; then
    (cd "$dir" && pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1) || true
  fi
  rm -rf "$dir"
  [ "$dir" = "${PG_DIR:-}" ] && unset PG_DIR PG_URL PG_PORT
  return 0
}

# Runs SQL $2 on the database at URL $1 (any server: a client needs no privilege), prints
# the rows unaligned, `|` between columns.
pg_sql() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# Creates database $1 on the server started by pg_start and prints its URL.
pg_createdb() {
  pg_sql "$PG_URL/postgres" "CREATE DATABASE \"$1\"" > /dev/null && echo "$PG_URL/$1"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      pg_start
      echo "$PG_URL/postgres"
      echo "$PG_DIR"
      ;;
    stop)
      pg_stop "${2:?usage: bench/pg.sh stop DIR}"
      ;;
    *)
      echo "usage: bench/pg.sh start | bench/pg.sh stop DIR (or source it: pg_start, pg_createdb, pg_sql, pg_stop)" >&2
      exit 2
      ;;
  esac
fi
