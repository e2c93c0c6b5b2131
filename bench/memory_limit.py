"""Run a benchmark as on a smaller machine: processes in a control group of their own with
a memory limit, as a container's ``--memory`` gives. ``memory_limited``: this process and
every process it starts after; ``memory_group``: only the processes that join it (a
server the benchmark starts). Page cache counts against the limit, so the snapshots' pages compete with the
processes' own memory as they would on a machine that size.

Needs root and a writable memory controller (cgroup v1's, or v2's with the memory
controller enabled for this process's group's children).
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


@dataclass
class MemoryGroup:
    path: Path
    peak_file: str

    def join(self) -> None:
        """Move the calling process into the group: it and all it starts are limited."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def command(self, command: list[str]) -> list[str]:
        """``command`` run in the group: a shell joins it, then becomes the command (no
        ``preexec_fn``, which is unsafe in a process with threads)."""
        return ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh",
                str(self.path / "cgroup.procs"), *command]

    def peak(self) -> int | None:
        """The most the group has used so far (bytes; None where the kernel cannot say)."""
        return _peak(self.path / self.peak_file)


@contextmanager
def memory_group(limit_bytes: int):
    """Within: a new group limited to ``limit_bytes`` that processes can join; removed at
    the end (every process in it must have exited by then)."""
    if limit_bytes <= 0:
        raise SystemExit("a memory limit must be more than 0")
    own, limit_file, peak_file = _own_group()
    group = own / f"imagesim-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / limit_file).write_text(str(limit_bytes))
    except OSError as exc:
        group_remove(group)
        raise SystemExit(f"cannot make a memory-limited group under {own}: {exc}") from exc
    try:
        yield MemoryGroup(group, peak_file)
    finally:
        group_remove(group)


def group_remove(group: Path) -> None:
    """Remove a group, saying so where it cannot be (a process started within still runs,
    after Ctrl-C): never raises, so the error that ended the run is the one shown."""
    try:
        group.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        print(f"left the group {group} behind: {exc}")


@contextmanager
def memory_limited(limit_bytes: int):
    """Within: this process in a new group limited to ``limit_bytes``. Yields a function
    that says the most the group has used so far (bytes; None where the kernel cannot say)."""
    own, _, _ = _own_group()
    with memory_group(limit_bytes) as group:
        group.join()
        try:
            yield group.peak
        finally:
            (own / "cgroup.procs").write_text(str(os.getpid()))


def _peak(path: Path) -> int | None:
    """The most the group has used (memory.peak is Linux 5.19 on; None before)."""
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def _own_group() -> tuple[Path, str, str]:
    """This process's memory group folder, and its limit's and peak's file names."""
    groups = dict(line.split(":", 2)[1:] for line in
                  Path("/proc/self/cgroup").read_text().splitlines())
    for controllers, path in groups.items():
        if "memory" in controllers.split(","):  # v1's, where it is mounted
            return (ROOT / "memory" / path.lstrip("/"), "memory.limit_in_bytes",
                    "memory.max_usage_in_bytes")
    if "" in groups:
        return ROOT / groups[""].lstrip("/"), "memory.max", "memory.peak"
    raise SystemExit("no memory control group found for this process")
