# An asyncio TCP echo server (the parent) and a client process it forked
# holding 50 connections to it, each on its own asyncio event loop
# (epoll, a self-pipe socketpair, TCP on 127.0.0.1).  Each round the
# client sends "R I" on every connection; the server answers "R I N",
# N its count of lines on that connection, which must equal R: a line
# lost or repeated across a checkpoint shows.  Prints READY after 20
# rounds; once the file argv[1] exists the client ends after 5 more,
# closes its connections and exits; the server, every connection closed,
# reaps it and prints "DONE ok" (or the client's status).  (e2e t_pyserve)
import asyncio
import os
import socket
import sys

CONNS = 50
go = sys.argv[1]


async def serve(lsock):
    left = CONNS
    done = asyncio.Event()

    async def one(reader, writer):
        nonlocal left
        n = 0
        while line := await reader.readline():
            n += 1
            writer.write(line.rstrip(b"\n") + b" %d\n" % n)
            await writer.drain()
        writer.close()
        left -= 1
        if left == 0:
            done.set()

    server = await asyncio.start_server(one, sock=lsock)
    await done.wait()
    server.close()


async def client(port):
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CONNS)]
    r = 0
    extra = None
    while extra is None or extra > 0:
        r += 1
        for i, (_, w) in enumerate(conns):
            w.write(b"%d %d\n" % (r, i))
        for i, (rd, _) in enumerate(conns):
            got = (await rd.readline()).decode()
            if got != "%d %d %d\n" % (r, i, r):
                print(f"BAD: round {r} connection {i}: {got!r}", flush=True)
                return 1
        if r == 20:
            print("READY", flush=True)
        if extra is not None:
            extra -= 1
        elif r > 20 and os.path.exists(go):
            extra = 5
        # pacing, not synchronisation: a round every few ms, not a busy loop
        await asyncio.sleep(0.005)
    for _, w in conns:
        w.close()
        await w.wait_closed()
    print(f"CLIENT rounds {r}", flush=True)
    return 0


lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(64)
port = lsock.getsockname()[1]
pid = os.fork()
if pid == 0:
    lsock.close()
    os._exit(asyncio.run(client(port)))
asyncio.run(serve(lsock))
_, status = os.waitpid(pid, 0)
rc = os.waitstatus_to_exitcode(status)
print(f"DONE {'ok' if rc == 0 else 'client rc %d' % rc}", flush=True)
