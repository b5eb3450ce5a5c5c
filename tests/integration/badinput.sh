#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Truncated, corrupt, oversized, bomb and unknown-version batches and garbage
# on the socket: each gets a clear rejection (or a closed connection), is
# counted, and the collector keeps serving. A batch the collector rejects
# goes to the agent's quarantine, not into an endless retry.
. "$(dirname "$0")/lib.sh"

INGEST_EXTRA="max_message=1M
max_raw=4M
max_records=1000"
write_collector_conf
TOKEN=$(make_token admin)
start_collector
ADDR=tcp://127.0.0.1:$INGEST_PORT
AGENT=aabbccddeeff00112233445566778899
send() { "$B/nngsend" "$ADDR" "$@"; }

printf 'MESSAGE=hello\n\nMESSAGE=world\n\n' > "$T/good.export"
send "$T/good.export" --frame $AGENT 1 2 > "$T/r" || fail "good batch: $(cat "$T/r")"
grep -q "^stored 1" "$T/r" || fail "good batch not stored: $(cat "$T/r")"
send "$T/good.export" --frame $AGENT 1 2 | grep -q "^duplicate 1" || fail "resent batch not a duplicate"

expect_reject() { # file reason [frame args...]
	local f=$1 reason=$2
	shift 2
	send "$f" "$@" > "$T/r" || fail "$f: $(cat "$T/r")"
	grep -q "^rejected .* $reason\$" "$T/r" || fail "$f: expected rejection '$reason', got: $(cat "$T/r")"
	info "$(basename "$f"): $(cat "$T/r")"
}

info "malformed headers and frames"
head -c 20 /dev/urandom > "$T/short.bin"
expect_reject "$T/short.bin" short
"$PY" -c 'import sys; sys.stdout.buffer.write(b"XXXX" + bytes(60))' > "$T/magic.bin"
expect_reject "$T/magic.bin" bad_magic
"$PY" -c 'import sys; sys.stdout.buffer.write(b"VGB1\x09\x00" + bytes(60))' > "$T/version.bin"
expect_reject "$T/version.bin" unknown_version

info "a valid frame, then damaged copies of it"
send "$T/good.export" --frame $AGENT 2 2 > /dev/null
"$PY" - "$T" <<'PYEOF'
import subprocess, sys, os
t = sys.argv[1]
# Rebuild the exact message bytes the way the agent would, with zstd's CLI.
def zstd(data, *opts):
    """zstd's CLI records the content size only for a file it can stat."""
    path = os.path.join(t, "zin")
    open(path, "wb").write(data)
    return subprocess.run(["zstd", "-q", "-c", *opts, path], capture_output=True, check=True).stdout
raw = open(t + "/good.export", "rb").read()
z = zstd(raw, "-C")
def hdr(seq, records, raw_len, version=1):
    return (b"VGB1" + version.to_bytes(2, "little") + bytes(2) + bytes.fromhex("aabbccddeeff00112233445566778899")
            + seq.to_bytes(8, "little") + records.to_bytes(4, "little") + raw_len.to_bytes(4, "little") + bytes(8))
def w(name, data):
    open(os.path.join(t, name), "wb").write(data)
w("truncated.bin", hdr(10, 2, len(raw)) + z[: len(z) // 2])
bad = bytearray(z); bad[-2] ^= 0xFF
w("checksum.bin", hdr(11, 2, len(raw)) + bytes(bad))
w("mismatch.bin", hdr(12, 2, len(raw) + 5) + z)
w("count.bin", hdr(13, 3, len(raw)) + z)
w("records.bin", hdr(14, 5000, len(raw)) + z)
garbage = b"this is not the export format\x00\x01\n"
zg = zstd(garbage)
w("decode.bin", hdr(15, 1, len(garbage)) + zg)
bomb = bytes(64 * 1024 * 1024)
zb = zstd(bomb, "-19")
w("bomb.bin", hdr(16, 1, len(bomb)) + zb)
w("nosize.bin", hdr(17, 2, len(raw)) + zstd(raw, "--no-content-size"))
PYEOF
[ "$(stat -c %s "$T/bomb.bin")" -lt 100000 ] || fail "bomb is not small"
expect_reject "$T/truncated.bin" decompress
expect_reject "$T/checksum.bin" decompress
expect_reject "$T/mismatch.bin" size_mismatch
expect_reject "$T/count.bin" count_mismatch
expect_reject "$T/records.bin" too_many_records
expect_reject "$T/decode.bin" decode
expect_reject "$T/bomb.bin" too_large
expect_reject "$T/nosize.bin" no_content_size

info "a sequence number no store keeps (2^63) is refused; a host name that is not UTF-8 is stored"
send "$T/good.export" --frame $AGENT 9223372036854775808 2 > "$T/r"
grep -q "^rejected .* bad_sequence$" "$T/r" || fail "seq 2^63: $(cat "$T/r")"
printf '_HOSTNAME=web\377\n\nMESSAGE=latin1 host\n_HOSTNAME=web\377\n\n' > "$T/latin1.export"
send "$T/latin1.export" --frame $AGENT 4 2 | grep -q "^stored 4" || fail "a host name not UTF-8 not stored"

info "a message over max_message closes the connection; garbage on the socket is dropped"
head -c $((2 * 1024 * 1024)) /dev/urandom > "$T/huge.bin"
"$B/nngsend" "$ADDR" "$T/huge.bin" > "$T/r" && ! grep -q "^error" "$T/r" && fail "oversized message answered: $(cat "$T/r")"
"$PY" - "$INGEST_PORT" <<'PYEOF'
import socket, sys
for payload in (b"GET / HTTP/1.0\r\n\r\n", b"\x00SP\x00\x00\x31\x00\x00" + b"\xff" * 100, bytes(range(256)) * 40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(payload)
    s.settimeout(5)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
PYEOF

info "the collector still serves, and counted every refusal"
send "$T/good.export" --frame $AGENT 3 2 | grep -q "^stored 3" || fail "collector stopped accepting good batches"
[ "$(metric 'vigil_ingest_batches_total{result="rejected"}')" = 12 ] || fail "rejected count: $(metric 'vigil_ingest_batches_total{result="rejected"}')"
[ "$(metric 'vigil_ingest_errors_total{reason="decompress"}')" = 2 ] || fail "decompress count"
[ "$(metric 'vigil_ingest_errors_total{reason="too_large"}')" = 1 ] || fail "too_large count"
[ "$(metric 'vigil_ingest_batches_total{result="duplicate"}')" = 1 ] || fail "duplicate count"
[ "$(metric 'vigil_ingest_errors_total{reason="bad_sequence"}')" = 1 ] || fail "bad_sequence count"
[ "$(metric 'vigil_ingest_transport_errors_total{reason="protocol"}')" -ge 1 ] ||
	fail "garbage on the socket not counted"
[ "$(pull_messages --count)" = 8 ] || fail "stored records: $(pull_messages --count)"

info "the agent quarantines a batch the collector rejects, and goes on"
BATCH_EXTRA="max_records=2000"
write_agent_conf
"$PY" "$S/tests/integration/writer.py" "$T/logs/app.log" 1500 --expect "$T/expected"
start_agent
wait_for 20 "batch quarantined" agent_status_is batches_quarantined 1
[ "$(agent_status records_quarantined)" = 1500 ] || fail "records_quarantined: $(agent_status records_quarantined)"
grep -q "rejected batch 1 (1500 records): too_many_records; moved to quarantine" "$T/agent.log" || fail "no log of the quarantine"
echo "small" >> "$T/logs/app.log"
wait_for 20 "later lines still flow" count_is 9
[ "$(sqlite3 "$T/state/spool.db" 'SELECT count(*) FROM quarantine')" = 1 ] || fail "quarantine table"
echo ok
