"""How much memory this process can still be given: by the machine, or by its container.

A container's memory limit (Docker's ``--memory``, a systemd unit's ``MemoryMax``) is a
control group's, and ``/proc/meminfo`` does not see it: a server given 4 GB on a 32 GB
machine reads 30 GB there. Page cache counts against a control group's limit but is
given back when its processes need the memory, so what is left under a limit is the
limit less its processes' own (anonymous) memory, as MemAvailable leaves the page cache
out of what is used.
"""

from pathlib import Path

MEMINFO = Path("/proc/meminfo")
OWN_CGROUPS = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit number.
NO_LIMIT_V1 = 1 << 62


def memory_available() -> int:
    """Bytes this process can be given without swapping: the system's MemAvailable, or
    less where a control group's limit leaves less (0 where neither can be read)."""
    known = [bytes_ for bytes_ in (_system_available(), _cgroup_left()) if bytes_ is not None]
    return max(0, min(known)) if known else 0


def _system_available() -> int | None:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_left() -> int | None:
    """The least any memory limit over this process leaves: the limit less the anonymous
    memory of its group's processes (None where no limit can be read)."""
    try:
        lines = OWN_CGROUPS.read_text().splitlines()
    except OSError:
        return None
    left = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            left += _left_v2(path)
        elif "memory" in controllers.split(","):
            left += _left_v1(path)
    return min(left) if left else None


def _left_v2(path: str) -> list[int]:
    """Each limit from the process's own group up to the root (a limit on a parent holds
    its children too)."""
    group = _group_folder(CGROUP_ROOT, path)
    left = []
    while group is not None:
        limit = _read(group / "memory.max")
        if limit not in (None, "max"):
            anonymous = _stat(group / "memory.stat").get("anon", 0)
            left.append(int(limit) - anonymous)
        group = group.parent if group != CGROUP_ROOT else None
    return left


def _left_v1(path: str) -> list[int]:
    """v1 states the tightest limit over the group itself (hierarchical_memory_limit)."""
    stat = _stat(_group_folder(CGROUP_ROOT / "memory", path) / "memory.stat")
    limit = stat.get("hierarchical_memory_limit")
    if limit is None or limit >= NO_LIMIT_V1:
        return []
    return [limit - stat.get("total_rss", stat.get("rss", 0))]


def _group_folder(root: Path, path: str) -> Path:
    """The group's folder; a container sees its own group as the root, under a path that
    names it from the host's root."""
    folder = root / path.lstrip("/")
    return folder if folder.is_dir() else root


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _stat(path: Path) -> dict[str, int]:
    values = {}
    for line in (_read(path) or "").splitlines():
        name, _, value = line.partition(" ")
        if value.isdigit():
            values[name] = int(value)
    return values
