#!/usr/bin/env bash
# postgres.sh starts and stops a throwaway PostgreSQL server for aitrail's
# tests (the postgres store's suite reads its DSN from AITRAIL_TEST_POSTGRES).
#
# Usage:
#
#	eval "$(scripts/postgres.sh start [DIR])"   # start (or reuse) a server, set AITRAIL_TEST_POSTGRES
#	. scripts/postgres.sh start [DIR]           # the same, when sourced
#	scripts/postgres.sh dsn [DIR]               # print the DSN of the running server
#	scripts/postgres.sh status [DIR]            # exit 0 if the server is running
#	scripts/postgres.sh stop [DIR]              # stop the server and delete its files
#
# DIR holds the cluster, its log and its socket; it defaults to
# $AITRAIL_PG_DIR, else /tmp/aitrail-pg. start reuses a server already
# running in DIR. The server listens on 127.0.0.1 only, on the first free
# port from $AITRAIL_PG_PORT (default 55432), trusts local connections
# (tests only!) and keeps fsync on. The binaries are taken from $PGBIN
# (default /usr/lib/postgresql/15/bin). Run as root, the server runs as the
# postgres user, since PostgreSQL refuses to run as root.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	# Sourced: run as a child, so that this shell's options stay untouched,
	# and take over the variable it prints.
	if __aitrail_pg_out="$(bash "${BASH_SOURCE[0]}" "$@")"; then
		eval "$__aitrail_pg_out"
		unset __aitrail_pg_out
		return 0
	fi
	unset __aitrail_pg_out
	return 1
fi

set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=aitrail_test
MARKER=.aitrail-postgres

usage() {
	echo "usage: $0 start|stop|status|dsn [DIR]" >&2
	exit 2
}

say() { echo "postgres.sh: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

[[ $# -ge 1 && $# -le 2 ]] || usage
mode=$1
dir=${2:-${AITRAIL_PG_DIR:-/tmp/aitrail-pg}}
[[ $dir = /* ]] || dir=$PWD/$dir
data=$dir/data

# as runs a command as the server's owner.
as() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

running() {
	[[ -f $data/PG_VERSION ]] && as "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# port prints the port of the running server, from postmaster.pid (line 4).
port() { sed -n 4p "$data/postmaster.pid"; }

dsn() { echo "postgres://postgres@127.0.0.1:$(port)/$DB?sslmode=disable"; }

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p=${AITRAIL_PG_PORT:-55432}
	for ((i = 0; i < 100; i++, p++)); do
		if ! in_use "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free port in ${AITRAIL_PG_PORT:-55432}-$((p - 1))"
}

start() {
	[[ -x $PGBIN/pg_ctl ]] || die "no PostgreSQL binaries in $PGBIN (set PGBIN)"
	if running; then
		say "reusing the server in $dir (port $(port))"
	else
		if [[ -e $dir && ! -f $dir/$MARKER ]] && [[ -n "$(ls -A "$dir")" ]]; then
			die "$dir exists and was not made by this script; give another DIR"
		fi
		mkdir -p "$dir"
		touch "$dir/$MARKER"
		[[ $EUID -eq 0 ]] && chown postgres: "$dir"
		if [[ ! -f $data/PG_VERSION ]]; then
			say "creating a cluster in $data"
			as "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
				--no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
				die "initdb failed; see $dir/initdb.log"
			cat >>"$data/postgresql.conf" <<-EOF

				# aitrail test server (scripts/postgres.sh)
				listen_addresses = '127.0.0.1'
				unix_socket_directories = '$dir'
				max_connections = 200
				fsync = on
				synchronous_commit = on
			EOF
		fi
		local p
		p=$(free_port)
		say "starting PostgreSQL on 127.0.0.1:$p (log: $dir/postgres.log)"
		as "$PGBIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -o "-p $p" -w -t 60 start >/dev/null ||
			die "the server did not start; see $dir/postgres.log"
	fi
	local p
	p=$(port)
	if [[ -z $(as "$PGBIN/psql" -h 127.0.0.1 -p "$p" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$DB'") ]]; then
		as "$PGBIN/psql" -h 127.0.0.1 -p "$p" -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
	fi
	echo "export AITRAIL_TEST_POSTGRES='$(dsn)'"
}

stop() {
	if running; then
		say "stopping the server in $dir"
		as "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	elif [[ -f $dir/postgres.log ]]; then
		say "the server in $dir had already stopped; the end of its log:"
		tail -n 5 "$dir/postgres.log" >&2
	else
		say "no server running in $dir"
	fi
	if [[ -f $dir/$MARKER ]]; then
		rm -rf "$data" "$dir/postgres.log" "$dir/initdb.log" "$dir/$MARKER"
		rmdir "$dir" 2>/dev/null || say "left $dir: it holds other files"
	fi
}

case $mode in
start) start ;;
stop) stop ;;
status)
	if running; then
		say "running in $dir on port $(port)"
	else
		say "not running in $dir"
		exit 1
	fi
	;;
dsn)
	running || die "no server running in $dir; run: $0 start"
	dsn
	;;
*) usage ;;
esac
