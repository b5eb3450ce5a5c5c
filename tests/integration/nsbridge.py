# SPDX-License-Identifier: Apache-2.0
# nsbridge.py FROM TO: carries TCP connections across network namespaces
# over a Unix socket, which every namespace sees in the file system. FROM
# and TO are tcp:PORT (on 127.0.0.1 of the namespace it runs in) or
# unix:PATH; a connection accepted on FROM is joined to a new one to TO.
# Stopping the bridge in a namespace cuts that namespace off from TO.
import asyncio
import os
import sys


def endpoint(spec):
    kind, _, where = spec.partition(":")
    if kind not in ("tcp", "unix") or not where:
        sys.exit(f"nsbridge: {spec}: expected tcp:PORT or unix:PATH")
    return kind, where


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    src, dst = endpoint(sys.argv[1]), endpoint(sys.argv[2])

    async def joined(reader, writer):
        try:
            if dst[0] == "tcp":
                r2, w2 = await asyncio.open_connection("127.0.0.1", int(dst[1]))
            else:
                r2, w2 = await asyncio.open_unix_connection(dst[1])
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, w2), pipe(r2, writer))

    if src[0] == "tcp":
        server = await asyncio.start_server(joined, "127.0.0.1", int(src[1]), reuse_address=True)
    else:
        if os.path.exists(src[1]):
            os.unlink(src[1])
        server = await asyncio.start_unix_server(joined, src[1])
    async with server:
        await server.serve_forever()


asyncio.run(main())
