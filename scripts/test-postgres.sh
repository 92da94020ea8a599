#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for hark's index tests, and print the
# line that points the tests at it.
#
#   eval "$(scripts/test-postgres.sh)"          # start (or reuse) it, export HARK_TEST_POSTGRES
#   go test ./index/
#   scripts/test-postgres.sh stop               # stop it; rm -rf the directory to forget it
#
# Usage: scripts/test-postgres.sh [start|stop|status] [DIR] [PORT]
#   DIR   where the cluster lives (default ${TMPDIR:-/tmp}/hark-test-postgres)
#   PORT  the loopback TCP port (default 55432)
#
# It installs PostgreSQL with apt-get if it is missing (Debian/Ubuntu, as
# root or with sudo), initialises a cluster in DIR/data, starts it on
# 127.0.0.1:PORT only, creates the role `hark` with a random password (kept in
# DIR/password) and the database hark_test owned by it, and prints
#   export HARK_TEST_POSTGRES=postgres://hark:…@127.0.0.1:PORT/hark_test?sslmode=disable
#   export HARK_TEST_POSTGRES_CA=DIR/tls/ca.pem
# on stdout (the server also takes TLS, with a throwaway CA made with Go);
# everything else goes to stderr. Running it again reuses the
# cluster. As root (CI), the server runs as the `postgres` system user, since
# PostgreSQL refuses to run as root.
#
# The cluster is for tests only: fsync is off, so a crash can lose it.
set -euo pipefail

cmd=start
case "${1:-}" in
start | stop | status) cmd=$1; shift ;;
-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
esac
dir=${1:-${TMPDIR:-/tmp}/hark-test-postgres}
port=${2:-55432}
data=$dir/data

log() { echo "test-postgres: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$port'"
if [[ $dir != /* ]]; then dir=$PWD/$dir; fi
data=$dir/data

# The PostgreSQL binaries: the newest installed, else install them.
find_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [[ -n $d && -x $d/initdb ]]; then echo "$d"; return; fi
	if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then pg_config --bindir; fi
}
bin=$(find_bin)
if [[ -z $bin ]]; then
	[[ $cmd == start ]] || die "PostgreSQL is not installed"
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || die "PostgreSQL is not installed; install it (apt-get install postgresql) or run this as root"
		sudo=(sudo)
	fi
	command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get; install PostgreSQL 13 or newer"
	log "installing PostgreSQL with apt-get"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
	bin=$(find_bin)
	[[ -n $bin ]] || die "apt-get installed postgresql, but no initdb was found under /usr/lib/postgresql"
fi

# Who runs the server: this user, or the postgres system user when root.
as=()
if [[ $(id -u) == 0 ]]; then
	id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
	if command -v runuser >/dev/null; then as=(runuser -u postgres --); else as=(su postgres -s /bin/sh -c); fi
fi
run() {
	if [[ ${#as[@]} == 0 ]]; then "$@"
	elif [[ ${as[0]} == runuser ]]; then "${as[@]}" "$@"
	else "${as[@]}" "$(printf '%q ' "$@")"
	fi
}
pg_ctl() { run "$bin/pg_ctl" -D "$data" "$@"; }
running() { [[ -f $data/PG_VERSION ]] && pg_ctl status >/dev/null 2>&1; }

case $cmd in
stop)
	if running; then pg_ctl -m fast -w stop >&2; else log "not running ($data)"; fi
	exit 0
	;;
status)
	if running; then log "running ($data)"; exit 0; else log "not running ($data)"; exit 3; fi
	;;
esac

# Initialise the cluster once.
if [[ ! -f $data/PG_VERSION ]]; then
	mkdir -p "$dir"
	if [[ ${#as[@]} != 0 ]]; then
		chown postgres: "$dir"
		run test -x "$dir" || die "the postgres user cannot reach $dir; choose a DIR outside private directories (e.g. under /tmp)"
	fi
	chmod 700 "$dir"
	log "initialising a cluster in $data ($("$bin/postgres" --version))"
	run "$bin/initdb" --pgdata="$data" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
	run sh -c "cat >>'$data/postgresql.conf'" <<EOF

# hark test cluster (scripts/test-postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
fi

# Start it, on the port asked for this time.
if ! running; then
	log "starting on 127.0.0.1:$port"
	pg_ctl -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >&2 ||
		{ tail -n 20 "$dir/postgres.log" >&2; die "the server did not start; see $dir/postgres.log"; }
fi
# The port it listens on, which is an earlier run's if it was running already.
port=$(run sed -n 4p "$data/postmaster.pid")

# The role and the database, once.
if [[ ! -s $dir/password ]]; then
	(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '+/=\n' >"$dir/password")
fi
password=$(cat "$dir/password")
psql() { run "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@" </dev/null; }
if [[ -z $(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'hark'") ]]; then
	psql -c "CREATE ROLE hark LOGIN PASSWORD '$password'" >&2
else
	psql -c "ALTER ROLE hark PASSWORD '$password'" >&2
fi
if [[ -z $(psql -c "SELECT 1 FROM pg_database WHERE datname = 'hark_test'") ]]; then
	psql -c "CREATE DATABASE hark_test OWNER hark" >&2
fi

# TLS, for the tests of hark's connection with sslmode=verify-full: a
# throwaway CA and a certificate for 127.0.0.1 (made with Go, which the
# tests need anyway), turned on with a reload. Plain connections still work.
tls=$dir/tls
if [[ ! -s $tls/server.key ]]; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	(cd "$root" && go run ./scripts/tlscert "$tls") || die "could not make the test certificates"
	if [[ ${#as[@]} != 0 ]]; then chown -R postgres: "$tls"; fi
fi
psql -c "ALTER SYSTEM SET ssl_cert_file = '$tls/server.pem'" >&2
psql -c "ALTER SYSTEM SET ssl_key_file = '$tls/server.key'" >&2
psql -c "ALTER SYSTEM SET ssl = on" >&2
psql -c "SELECT pg_reload_conf()" >/dev/null

log "ready: hark_test on 127.0.0.1:$port ($data), TLS with the CA $tls/ca.pem; stop it with: $0 stop $dir"
echo "export HARK_TEST_POSTGRES=postgres://hark:$password@127.0.0.1:$port/hark_test?sslmode=disable"
echo "export HARK_TEST_POSTGRES_CA=$tls/ca.pem"
