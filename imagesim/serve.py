"""bin/serve's server: daphne in WEB_PROCESSES processes listening on one address.

One process runs Python one thread at a time (the GIL), and on a busy server that, not
the cores, set the rate: on two cores with the fake extractor, one daphne process answered
64 to 83 requests a second and two answered 99 to 114 (bench/load.py). This opens
a listening socket for each process on the one address (SO_REUSEPORT) and starts the
processes on them; the kernel spreads new connections evenly over the sockets.

The processes are not alike in two ways (WEB_PROCESS_INDEX, set here):
- The first runs the embedded feature worker and prints the first-run setup code. Its
  progress events reach the other processes' websockets through the channel layer when
  it is shared (Redis), and otherwise from the database (features/jobs/relay.py).
- Rate-limit counters live in a cache every process shares (settings.CACHES).

An IPv6 HOST is served by one process, which binds it itself (daphne adopts IPv4 sockets only).
When a process ends by itself the others are stopped too, and this exits with its
status, so whatever restarts the server (systemd, Docker) restarts all of it.

    python -m imagesim.serve [--host HOST] [--port PORT] [--processes N]
"""

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time

from core.limits import cores_available


def process_count(setting: str | None) -> int:
    """WEB_PROCESSES: a number, or 0 (the default) for one per core (a container's CPU
    quota counts: each process holds its own model)."""
    try:
        count = int(setting or 0)
    except ValueError:
        raise SystemExit(f"WEB_PROCESSES must be a whole number, not {setting!r}") from None
    if count < 0:
        raise SystemExit("WEB_PROCESSES must be 0 (one per core) or more")
    return count or cores_available()


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """One socket a process, all on the address (SO_REUSEPORT): the kernel spreads new
    connections over them evenly. With one shared socket, whichever process woke first took
    most of a burst of connections, and a browser or client keeps its connection."""
    # Sockets of another server on the address, even with SO_REUSEPORT, refuse this one
    # (without it): a second ImageSim never quietly shares the first one's connections.
    socket.create_server((host, port)).close()
    sockets = [socket.create_server((host, port), backlog=1024, reuse_port=True)
               for _ in range(count)]
    for server in sockets:
        server.set_inheritable(True)
    return sockets


def daphne_command(server: socket.socket) -> list[str]:
    # daphne's fd endpoint (twisted/plugins/fd_endpoint.py) adopts an IPv4 socket.
    return [sys.executable, "-m", "daphne", "-e", f"fd:fileno={server.fileno()}",
            "imagesim.asgi:application"]


def ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        return False


def start(sockets: list[socket.socket]) -> list[subprocess.Popen]:
    processes = []
    for index, server in enumerate(sockets):
        env = {**os.environ, "WEB_PROCESS_INDEX": str(index)}
        processes.append(subprocess.Popen(daphne_command(server), env=env,
                                          pass_fds=[server.fileno()]))
    return processes


def stop(processes: list[subprocess.Popen], seconds: float = 20) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--processes", default=os.environ.get("WEB_PROCESSES"))
    args = parser.parse_args(argv)

    count = process_count(args.processes)
    if ipv6(args.host):  # the shared socket is IPv4 only: one process binds the address itself
        os.execv(sys.executable, [sys.executable, "-m", "daphne", "-b", args.host.strip("[]"),
                                  "-p", str(args.port), "imagesim.asgi:application"])
    try:
        sockets = listening_sockets(args.host, args.port, count)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise SystemExit(f"ImageSim cannot listen on {args.host}:{args.port}: {reason}"
                         " (another server there? set PORT)") from None
    processes = start(sockets)
    for server in sockets:
        server.close()  # each process holds its own now

    stopping = []

    def on_signal(number, frame):
        stopping.append(number)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stopping:
        ended = [process for process in processes if process.poll() is not None]
        if ended:
            print(f"A web process ended (status {ended[0].returncode}); stopping the others",
                  file=sys.stderr)
            stop(processes)
            return ended[0].returncode or 1
        time.sleep(0.5)
    stop(processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
