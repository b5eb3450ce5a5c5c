#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Under TLS an agent id belongs to the certificate it was first stored
# with, on every collector of one database: web-1's id, bound through A,
# is refused to an intruder with another certificate from the same CA who
# sends through B (B had never seen the id), and web-1 still ships through
# B. Without the shared binding B would bind the id to the intruder, store
# its batches as web-1's agent, and refuse web-1 from then on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
mkca ca
mkcert collector ca server
mkcert web-1 ca client
mkcert intruder ca client
INGEST_ADDR="tls+tcp://127.0.0.1:$INGEST_PORT"
INGEST_EXTRA="tls_ca=$P/ca.crt
tls_cert=$P/collector.crt
tls_key=$P/collector.key"
pg_start
pg_collectors_conf
TOKEN=$(make_token admin)
start_collector
start_collector_b
VICTIM=5151515151515151aaaaaaaaaaaaaaaa
send_as() { # port seq cert
	"$B/nngsend" "tls+tcp://127.0.0.1:$1" "$T/line.export" --frame "$VICTIM" "$2" 1 --tls "$P/ca.crt" "$P/$3.crt" \
		"$P/$3.key"
}
printf 'MESSAGE=a line\n\n' > "$T/line.export"

info "web-1's first batch, through A: its id is bound to web-1's certificate"
send_as "$INGEST_PORT" 1 web-1 | grep -q "^stored 1" || fail "web-1 through A"
[ "$(pg_sql -c "SELECT certificate FROM hosts WHERE id = '$VICTIM'")" = web-1 ] || fail "the binding in the database"

info "the intruder claims the id through B: refused, nothing stored, B binds nothing"
send_as "$PORT_B" 2 intruder > "$T/reply"
grep -q "^refused 2 agent id is bound to the certificate of web-1; this batch came with the certificate of intruder" \
	"$T/reply" || fail "the intruder through B: $(cat "$T/reply")"
[ "$(pg_sql -c "SELECT count(*) FROM blocks")" = 1 ] || fail "the intruder's batch stored"

info "web-1 ships through B"
send_as "$PORT_B" 3 web-1 | grep -q "^stored 3" || fail "web-1 through B, after the intruder"
[ "$(pg_sql -c "SELECT string_agg(host, ',' ORDER BY seq) FROM blocks")" = "web-1,web-1" ] ||
	fail "the blocks' hosts: $(pg_sql -c "SELECT host FROM blocks")"
echo ok
