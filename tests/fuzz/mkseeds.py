#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes seed requests for fuzz-batch into corpus/batch (uses the zstd CLI)."""
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def zstd(data, *opts):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return subprocess.run(["zstd", "-q", "-c", *opts, f.name], capture_output=True, check=True).stdout


def hdr(seq, records, raw_len, version=1):
    return (b"VGB1" + version.to_bytes(2, "little") + bytes(2) + bytes(range(16))
            + seq.to_bytes(8, "little") + records.to_bytes(4, "little")
            + raw_len.to_bytes(4, "little") + bytes(8))


def main():
    out = os.path.join(HERE, "corpus", "batch")
    raw = (b"__REALTIME_TIMESTAMP=1795248000000000\n_HOSTNAME=web-1\nVIGIL_SOURCE=app\n"
           b"VIGIL_PATH=/var/log/app.log\nPRIORITY=3\nMESSAGE=ERROR db down\n\n"
           b"_SYSTEMD_UNIT=nginx.service\nMESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n\n")
    z = zstd(raw, "-C")
    seeds = {
        "valid": hdr(1, 2, len(raw)) + z,
        "count-mismatch": hdr(2, 3, len(raw)) + z,
        "no-content-size": hdr(3, 2, len(raw)) + zstd(raw, "--no-content-size"),
        "truncated": hdr(4, 2, len(raw)) + z[: len(z) // 2],
        "bad-version": hdr(5, 2, len(raw), 7) + z,
        "short": b"VGB1\x01\x00",
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
