# SPDX-License-Identifier: Apache-2.0
# Two network namespaces the test makes, NS_A and NS_B, each with only its
# own loopback: an agent in one reaches the collector and the tested site
# only through bridges (nsbridge.py over Unix sockets), which the test cuts
# to cut that namespace off. Sourced after lib.sh; exits 77 where network
# namespaces cannot be made.
command -v ip > /dev/null && ip netns add "vg-probe-$$" 2>/dev/null && ip netns del "vg-probe-$$" ||
	{ echo "SKIP: no network namespaces here (ip netns add needs root)"; exit 77; }
NS_A="vg-a-$$"
NS_B="vg-b-$$"
drop_namespaces() { ip netns del "$NS_A" 2>/dev/null; ip netns del "$NS_B" 2>/dev/null; true; }

netns_setup() {
	AT_EXIT="$AT_EXIT drop_namespaces"
	for ns in "$NS_A" "$NS_B"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
}

# bridge NS NAME PORT: 127.0.0.1:PORT in namespace NS reaches 127.0.0.1:PORT here, through $T/NAME.sock.
declare -A BRIDGE_PIDS
bridge() {
	"$PY" "$S/tests/integration/nsbridge.py" "unix:$T/$2.sock" "tcp:$3" &
	PIDS="$PIDS $!"
	wait_for 10 "the bridge $2" test -S "$T/$2.sock"
	ip netns exec "$1" "$PY" "$S/tests/integration/nsbridge.py" "tcp:$3" "unix:$T/$2.sock" &
	BRIDGE_PIDS[$2]=$!
	PIDS="$PIDS $!"
	wait_for 10 "the bridge $2 in $1" ip netns exec "$1" "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $3), 1)"
}

# vantage_agents: agents a (zone=a) in NS_A and b (zone=b) in NS_B, named host-a and host-b, each reaching
# the collector's ingest and the site on SITE_PORT through its own bridges (BRIDGE_PIDS[site-a], [site-b]).
vantage_agents() {
	local n ns
	for n in a b; do
		ns=$NS_A
		[ "$n" = b ] && ns=$NS_B
		bridge "$ns" "ingest-$n" "$INGEST_PORT"
		bridge "$ns" "site-$n" "$SITE_PORT"
		named_agent_conf "$n" "00000000000000000000000000000${n}0${n}" "zone=$n"
		ip netns exec "$ns" "$B/vigil-agent" --config "$T/agent-$n.conf" >> "$T/agent-$n.log" 2>&1 &
		AGENT_PIDS[$n]=$!
		PIDS="$PIDS $!"
	done
}
