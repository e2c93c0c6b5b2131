"""What this process may use: the machine's memory and cores, or its container's share.

A container's limits (Docker's ``--memory`` and ``--cpus``, a systemd unit's
``MemoryMax`` and ``CPUQuota``) are a control group's, and neither ``/proc/meminfo`` nor
the core count sees them: a server given 4 GB and two cores on a 32 GB, 16-core machine
would read 30 GB free and start 16 web processes, each with its own model.

Page cache counts against a control group's memory limit but is given back when its
processes need the memory, so what is left under a limit is the limit less its processes'
own (anonymous) memory, as MemAvailable leaves the page cache out of what is used.
"""

import math
import os
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


def cores_available() -> int:
    """Cores this process may run on (its CPU affinity), or fewer where a control group's
    CPU quota allows fewer (rounded up: a quota of 1.5 cores keeps two busy)."""
    cores = len(os.sched_getaffinity(0))
    quotas = _cpu_quotas()
    return max(1, min([cores, *(math.ceil(quota) for quota in quotas)]))


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
    left = []
    for controllers, path in _own_groups():
        if controllers == "":
            left += _left_v2(path)
        elif "memory" in controllers.split(","):
            left += _left_v1(path)
    return min(left) if left else None


def _cpu_quotas() -> list[float]:
    """Every CPU quota over this process, in cores."""
    quotas = []
    for controllers, path in _own_groups():
        if controllers == "":
            for group in _up_to_root(CGROUP_ROOT, path):
                quota, _, period = (_read(group / "cpu.max") or "max").partition(" ")
                if quota != "max" and period:
                    quotas.append(int(quota) / int(period))
        elif "cpu" in controllers.split(","):
            root = CGROUP_ROOT / controllers
            for group in _up_to_root(root if root.is_dir() else CGROUP_ROOT / "cpu", path):
                quota = int(_read(group / "cpu.cfs_quota_us") or -1)  # -1: none
                period = int(_read(group / "cpu.cfs_period_us") or 0)
                if quota > 0 and period > 0:
                    quotas.append(quota / period)
    return quotas


def _own_groups() -> list[tuple[str, str]]:
    """(controllers, path) of each of this process's control groups ("" is cgroup v2's)."""
    try:
        lines = OWN_CGROUPS.read_text().splitlines()
    except OSError:
        return []
    return [tuple(line.split(":", 2)[1:]) for line in lines if line.count(":") >= 2]


def _up_to_root(root: Path, path: str):
    """The group's folder and each above it, the root last (a limit on a parent holds its
    children too)."""
    group = _group_folder(root, path)
    while True:
        yield group
        if group == root:
            return
        group = group.parent


def _left_v2(path: str) -> list[int]:
    left = []
    for group in _up_to_root(CGROUP_ROOT, path):
        limit = _read(group / "memory.max")
        if limit not in (None, "max"):
            left.append(int(limit) - _stat(group / "memory.stat").get("anon", 0))
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
