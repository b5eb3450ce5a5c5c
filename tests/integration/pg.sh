# SPDX-License-Identifier: Apache-2.0
# Debian's PostgreSQL for a test, after lib.sh: pg_start makes a cluster in
# a folder of its own and starts it as an unprivileged user (nobody when the
# test runs as root; initdb refuses root), on a Unix socket only, with a
# password (scram-sha-256) that $PG_PASSWORD_FILE holds; $PG_URL names it.
# The server is killed by PID with the test's other processes, its folder
# removed. Exits 77 (skip) when PostgreSQL is not installed, or the build
# has no pgrace (configure found no libpq).
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PG_ROOT=""

pg_start() {
	[ -x "$PG_BIN/initdb" ] || { echo "SKIP: PostgreSQL is not installed (scripts/deps.sh installs postgresql-15)"; exit 77; }
	[ -x "$B/pgrace" ] || { echo "SKIP: built without PostgreSQL (configure found no libpq)"; exit 77; }
	# Not under $T (0700): the server's user must reach its folder.
	PG_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/vigil-pg.XXXXXX")
	chmod 0755 "$PG_ROOT"
	mkdir -p "$PG_ROOT/data" "$PG_ROOT/sock"
	PG_PASSWORD_FILE=$T/pg.password
	(umask 077 && head -c 18 /dev/urandom | base64 > "$PG_PASSWORD_FILE")
	cp "$PG_PASSWORD_FILE" "$PG_ROOT/pw"
	local as=()
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody "$PG_ROOT/data" "$PG_ROOT/sock" "$PG_ROOT/pw"
		# setpriv execs (runuser would stay the parent): $! is the server's PID.
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	fi
	"${as[@]}" "$PG_BIN/initdb" -D "$PG_ROOT/data" -U vigil --auth=scram-sha-256 --pwfile="$PG_ROOT/pw" \
		-E UTF8 --locale=C.UTF-8 > "$T/pg-initdb.log" 2>&1 || fail "initdb: $(tail -n 5 "$T/pg-initdb.log")"
	rm -f "$PG_ROOT/pw"
	pg_resume
}

# The server started (again) on the cluster pg_start made; pg_halt stops it (fast shutdown), its data kept.
pg_resume() {
	local as=()
	[ "$(id -u)" = 0 ] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	"${as[@]}" "$PG_BIN/postgres" -D "$PG_ROOT/data" -c listen_addresses= -c unix_socket_directories="$PG_ROOT/sock" \
		-c fsync="${PG_FSYNC:-off}" -c max_connections=64 >> "$T/pg.log" 2>&1 &
	PG_PID=$!
	PIDS="$PIDS $PG_PID"
	PG_URL="postgresql:///postgres?host=$PG_ROOT/sock&user=vigil"
	wait_for 30 "PostgreSQL up" "$PG_BIN/pg_isready" -q -h "$PG_ROOT/sock"
}
pg_halt() {
	kill -INT "$PG_PID"
	wait "$PG_PID" 2>/dev/null || true
}

# Stops the server (fast shutdown) and removes its folder, at the test's exit (lib.sh's AT_EXIT).
pg_stop() {
	[ -n "$PG_ROOT" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null || true
	wait "$PG_PID" 2>/dev/null || true
	rm -rf "$PG_ROOT"
}
AT_EXIT="$AT_EXIT pg_stop"

# pg_collectors_conf [extra ini text]: two collectors on the test's database, A in collector.conf (its API at
# $URL_A, $URL), B in collector-b.conf (ingest on $PORT_B, its API at $URL_B, its own data-b).
pg_collectors_conf() {
	PORT_B=$(free_port)
	HTTP_B=$(free_port)
	URL_A=$URL
	URL_B="http://127.0.0.1:$HTTP_B"
	write_collector_conf "[storage]
backend=postgresql
url=$PG_URL
password_file=$PG_PASSWORD_FILE
${1:-}"
	sed -e "s|127.0.0.1:$INGEST_PORT|127.0.0.1:$PORT_B|" -e "s|127.0.0.1:$HTTP_PORT|127.0.0.1:$HTTP_B|" \
		-e "s|data_dir=$T/data|data_dir=$T/data-b|" "$T/collector.conf" > "$T/collector-b.conf"
}
start_collector_b() {
	"$B/vigil-collector" --config "$T/collector-b.conf" >> "$T/collector-b.log" 2>&1 &
	PID_B=$!
	PIDS="$PIDS $PID_B"
	wait_for 10 "collector B up" curl -s -o /dev/null "$URL_B/api/v1/hosts"
}

# A started and evaluating the rules (the first to take the lease), then B, standing by.
start_collectors_a_leading() {
	start_collector
	wait_for 10 "A evaluates" grep -q "alerting: this collector .* does this work now" "$T/collector.log"
	start_collector_b
	wait_for 10 "B stands by" grep -q "alerting: another collector does this work" "$T/collector-b.log"
}

# psql as vigil on the test's server.
pg_sql() { PGPASSWORD=$(cat "$PG_PASSWORD_FILE") "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" "$@"; }
