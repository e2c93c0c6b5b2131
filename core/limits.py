"""What this process may use: the machine's memory and cores, or its container's share.

A container's limits (Docker's ``--memory`` and ``--cpus``, a systemd unit's
``MemoryMax`` and ``CPUQuota``) are a control group's, and neither ``/proc/meminfo`` nor
the core count sees them: a server given 4 GB and two cores on a 32 GB, 16-core machine
would read 30 GB free and start 16 web processes, each with its own model.

Page cache counts against a control group's memory limit but is given back when its
processes need the memory; their own memory (anonymous and shared memory, and on cgroup
v2 the kernel's for them) is not. So what is left under a limit is the limit less that.

Nothing here raises: a file that cannot be read or parsed is a limit not known, and the
machine's own figures stand.
"""

import math
import os
from pathlib import Path

MEMINFO = Path("/proc/meminfo")
OWN_CGROUPS = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 has no word for "no limit": it writes the largest signed 64-bit number
# rounded down to a page (9223372036854771712 with 4 KB pages). Anything this large is none.
V1_NO_LIMIT_FROM = 1 << 62
# What a group's processes hold that the kernel cannot give back to them, by memory.stat key.
HELD_V2 = ("anon", "shmem", "kernel")
HELD_V1 = ("total_rss", "total_shmem")


def memory_available() -> int:
    """Bytes this process can be given without swapping: the system's MemAvailable, or
    less where a control group's limit leaves less (0 where neither can be read)."""
    known = [bytes_ for bytes_ in (_system_available(), _cgroup_left()) if bytes_ is not None]
    return max(0, min(known)) if known else 0


def cores_available() -> int:
    """Cores this process may run on (its CPU affinity), or fewer where a control group's
    CPU quota allows fewer (rounded up: a quota of 1.5 cores keeps two busy)."""
    return cores_of_quota() or _cores_allowed()


def cores_of_quota() -> int | None:
    """The cores a CPU quota leaves this process where that is fewer than it may run on
    (rounded up); None where no quota holds it to fewer."""
    quotas = [math.ceil(quota) for quota in _cpu_quotas()]
    if not quotas or min(quotas) >= _cores_allowed():
        return None
    return max(1, min(quotas))


def blas_to_quota():
    """Under a CPU quota, the BLAS loaded by now (numpy's) on the quota's cores: like
    OpenVINO, it starts a thread per core the process may run on, and in a container given
    two of 16 cores its 16 threads would wait out the quota's throttling. (faiss keeps to
    one thread a search itself.) Returns threadpoolctl's limiter (None where no quota
    holds), whose ``restore_original_limits`` undoes it."""
    cores = cores_of_quota()
    if cores is None:
        return None
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=cores, user_api="blas")


def _cores_allowed() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _system_available() -> int | None:
    for line in (_read(MEMINFO) or "").splitlines():
        if line.startswith("MemAvailable:"):
            kilobytes = _number(line.split()[1]) if len(line.split()) > 1 else None
            return None if kilobytes is None else kilobytes * 1024
    return None


def _cgroup_left() -> int | None:
    """The least any memory limit over this process leaves (None where none is known)."""
    left = []
    for controllers, path in _own_groups():
        if controllers == "":
            left += _left_v2(path)
        elif "memory" in controllers.split(","):
            left += _left_v1(path)
    return min(left) if left else None


def _left_v2(path: str) -> list[int]:
    """From the process's own group up to the root: a limit on a parent holds its
    children too. ``memory.high`` (systemd's MemoryHigh) throttles there, so it counts."""
    left = []
    for group in _up_to_root(CGROUP_ROOT, path):
        limits = [_number(_read(group / name)) for name in ("memory.max", "memory.high")]
        limits = [limit for limit in limits if limit is not None]
        if limits:
            stat = _stat(group / "memory.stat")
            left.append(min(limits) - sum(stat.get(key, 0) for key in HELD_V2))
    return left


def _left_v1(path: str) -> list[int]:
    """v1 states the tightest limit over the group itself (hierarchical_memory_limit)."""
    stat = _stat(_group_folder(CGROUP_ROOT / "memory", path) / "memory.stat")
    limit = stat.get("hierarchical_memory_limit")
    if limit is None or limit >= V1_NO_LIMIT_FROM:
        return []
    return [limit - sum(stat.get(key, 0) for key in HELD_V1)]


def _cpu_quotas() -> list[float]:
    """Every CPU quota over this process, in cores."""
    quotas = []
    for controllers, path in _own_groups():
        if controllers == "":
            for group in _up_to_root(CGROUP_ROOT, path):
                quota, _, period = (_read(group / "cpu.max") or "max").partition(" ")
                quotas.append(_ratio(_number(quota), _number(period)))
        elif "cpu" in controllers.split(","):
            # Mounted under the controllers' names ("cpu,cpuacct"), and usually also as
            # "cpu"; a kernel may list them in another order than the mount's name.
            root = CGROUP_ROOT / controllers
            for group in _up_to_root(root if os.path.isdir(root) else CGROUP_ROOT / "cpu", path):
                quotas.append(_ratio(_number(_read(group / "cpu.cfs_quota_us")),
                                     _number(_read(group / "cpu.cfs_period_us"))))
    return [quota for quota in quotas if quota is not None]


def _ratio(quota: int | None, period: int | None) -> float | None:
    """Cores a quota gives (None for none: "max" on v2, -1 on v1)."""
    if quota is None or period is None or quota <= 0 or period <= 0:
        return None
    return quota / period


def _own_groups() -> list[tuple[str, str]]:
    """(controllers, path) of each of this process's control groups ("" is cgroup v2's)."""
    groups = []
    for line in (_read(OWN_CGROUPS) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            groups.append((parts[1], parts[2]))
    return groups


def _up_to_root(root: Path, path: str):
    """The group's folder and each above it, the root last."""
    group = _group_folder(root, path)
    while True:
        yield group
        if group == root:
            return
        group = group.parent


def _group_folder(root: Path, path: str) -> Path:
    """The group's folder. A container sees its own group as the root, under a path that
    names it from the host's root: that path is not there, and the root is the group."""
    folder = root / path.lstrip("/")
    return folder if os.path.isdir(folder) and root in folder.parents else root


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _number(text: str | None) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _stat(path: Path) -> dict[str, int]:
    values = {}
    for line in (_read(path) or "").splitlines():
        name, _, value = line.partition(" ")
        number = _number(value)
        if number is not None:
            values[name] = number
    return values
