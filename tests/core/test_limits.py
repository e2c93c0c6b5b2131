"""What a process may use: the machine's memory and cores, or its container's limits."""

import pytest

from core import limits
from search.index import snapshot

GB = 1 << 30
V1_NONE = "9223372036854771712"  # what cgroup v1 writes for no limit (4 KB pages)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A fake /proc and /sys/fs/cgroup: a 32 GB machine with 30 GB available and 16 cores."""
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    root.mkdir()
    (proc / "meminfo").write_text(f"MemTotal: {32 * GB // 1024} kB\n"
                                  f"MemAvailable: {30 * GB // 1024} kB\n")
    monkeypatch.setattr(limits, "MEMINFO", proc / "meminfo")
    monkeypatch.setattr(limits, "OWN_CGROUPS", proc / "cgroup")
    monkeypatch.setattr(limits, "CGROUP_ROOT", root)
    monkeypatch.setattr(limits.os, "sched_getaffinity", lambda pid: set(range(16)))
    return proc, root


def group(folder, files: dict[str, str]) -> None:
    """A group's folder holding these files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


# ------------------------------------------------------------------------------- memory

def test_without_a_limit_the_machine_s_available_memory_is_given(machine):
    proc, root = machine
    (proc / "cgroup").write_text("4:memory:/user.slice\n0::/user.slice\n")
    group(root / "memory" / "user.slice", {"memory.stat": (
        f"rss 1000\nhierarchical_memory_limit {V1_NONE}\ntotal_rss 1000\n")})
    assert limits._cgroup_left() is None
    assert limits.memory_available() == 30 * GB


def test_a_v1_limit_leaves_the_limit_less_what_its_processes_hold(machine):
    proc, root = machine
    (proc / "cgroup").write_text("12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n")
    group(root / "memory" / "docker" / "abc", {"memory.stat": (
        f"cache {2 * GB}\nrss 1\nshmem 1\nhierarchical_memory_limit {4 * GB}\n"
        f"total_cache {2 * GB}\ntotal_rss {GB}\ntotal_shmem {GB // 4}\n")})
    # The page cache (2 GB) is given back under the limit: not counted as held.
    assert limits.memory_available() == 4 * GB - GB - GB // 4


def test_a_v1_container_sees_its_own_group_as_the_root(machine):
    proc, root = machine
    (proc / "cgroup").write_text("4:memory:/docker/0123abcd\n")
    group(root / "memory", {"memory.stat": (
        f"hierarchical_memory_limit {2 * GB}\ntotal_rss {GB // 2}\n")})
    assert limits.memory_available() == 2 * GB - GB // 2


def test_a_v2_limit_on_a_parent_group_holds_its_children(machine):
    proc, root = machine
    (proc / "cgroup").write_text("0::/imagesim.slice/web.service\n")
    group(root / "imagesim.slice", {"memory.max": str(4 * GB), "memory.high": "max",
                                    "memory.stat": f"anon {GB}\nshmem {GB // 2}\nfile {2 * GB}\n"})
    group(root / "imagesim.slice" / "web.service", {
        "memory.max": "max", "memory.high": "max", "memory.stat": f"anon {GB}\nfile {GB}\n"})
    assert limits.memory_available() == 4 * GB - GB - GB // 2


def test_a_v2_memory_high_counts_as_a_limit(machine):
    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"memory.max": str(8 * GB), "memory.high": str(3 * GB),
                 "memory.stat": f"anon {GB}\nkernel {GB // 4}\n"})
    assert limits.memory_available() == 3 * GB - GB - GB // 4


def test_a_v2_container_sees_its_own_group_as_the_root(machine):
    """In a container's namespace the path names the group from the host's root, and the
    container's own group is mounted as the root."""
    proc, root = machine
    (proc / "cgroup").write_text("0::/system.slice/docker-abc.scope\n")
    group(root, {"memory.max": str(2 * GB), "memory.stat": f"anon {GB // 2}\n"})
    assert limits.memory_available() == 2 * GB - GB // 2


def test_the_smaller_of_the_machine_and_the_limit_is_given(machine):
    proc, root = machine
    (proc / "meminfo").write_text(f"MemAvailable: {GB // 1024} kB\n")
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"memory.max": str(8 * GB), "memory.stat": "anon 0\n"})
    assert limits.memory_available() == GB


def test_nothing_readable_gives_nothing(machine, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MEMINFO", tmp_path / "missing")
    assert limits.memory_available() == 0


def test_files_that_do_not_parse_are_limits_not_known(machine):
    """Never an exception: the server's start and every snapshot open ask."""
    proc, root = machine
    (proc / "cgroup").write_text("garbage\n0::/a\n4:memory:/b\n3:cpu:/c\n")
    group(root / "a", {"memory.max": "lots", "memory.high": "", "memory.stat": "anon many\n",
                       "cpu.max": "some 100000"})
    group(root / "memory" / "b", {"memory.stat": "hierarchical_memory_limit\ntotal_rss x\n"})
    group(root / "cpu" / "c", {"cpu.cfs_quota_us": "1.5", "cpu.cfs_period_us": "0"})
    assert limits.memory_available() == 30 * GB
    assert limits.cores_available() == 16

    (proc / "meminfo").write_text("MemAvailable:\n")
    assert limits.memory_available() == 0


def test_a_snapshot_in_a_small_container_is_not_read_ahead_whole(machine, tmp_path,
                                                                   monkeypatch):
    """A million's vectors' file (3.8 GB) on a machine with 30 GB free, in a container
    given 4 GB: reading it all ahead would push the faiss file out of the page cache."""
    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"memory.max": str(4 * GB), "memory.stat": f"anon {GB // 2}\n"})
    index, vectors = tmp_path / "snapshot.faiss", tmp_path / "snapshot.f16"
    index.write_bytes(b"i")
    with open(vectors, "wb") as sparse_file:
        sparse_file.truncate(3 * GB)  # its size, not its bytes
    read = []
    monkeypatch.setattr(snapshot, "_file_read_ahead", read.append)
    snapshot._read_ahead(index, vectors)
    assert read == [index]

    (root / "memory.max").write_text("max")  # the limit lifted
    read.clear()
    snapshot._read_ahead(index, vectors)
    assert read == [index, vectors]


# -------------------------------------------------------------------------------- cores

def test_the_cores_are_this_process_s_own_without_a_quota(machine, monkeypatch):
    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "max 100000"})
    monkeypatch.setattr(limits.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert limits.cores_available() == 4


def test_a_v2_quota_on_a_parent_group_gives_fewer_cores(machine):
    """Docker's --cpus=1.5 on a 16-core machine: two cores busy at most."""
    proc, root = machine
    (proc / "cgroup").write_text("0::/imagesim.slice/web.service\n")
    group(root / "imagesim.slice", {"cpu.max": "150000 100000"})
    group(root / "imagesim.slice" / "web.service", {"cpu.max": "max 100000"})
    assert limits.cores_available() == 2


def test_a_v1_quota_gives_fewer_cores(machine):
    proc, root = machine
    (proc / "cgroup").write_text("3:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n")
    group(root / "cpu,cpuacct", {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"})
    group(root / "cpu,cpuacct" / "docker" / "abc", {"cpu.cfs_quota_us": "100000",
                                                    "cpu.cfs_period_us": "100000"})
    assert limits.cores_available() == 1


def test_a_v1_quota_is_found_where_the_controllers_are_named_in_another_order(machine):
    """/proc lists "cpuacct,cpu" where the mount is "cpu,cpuacct", with a "cpu" link."""
    proc, root = machine
    (proc / "cgroup").write_text("3:cpuacct,cpu:/docker/abc\n")
    group(root / "cpu" / "docker" / "abc", {"cpu.cfs_quota_us": "300000",
                                            "cpu.cfs_period_us": "100000"})
    assert limits.cores_available() == 3


def test_a_quota_never_gives_more_cores_than_the_process_may_run_on(machine, monkeypatch):
    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "800000 100000"})
    monkeypatch.setattr(limits.os, "sched_getaffinity", lambda pid: {0, 1})
    assert limits.cores_available() == 2


def test_off_linux_the_core_count_is_the_machine_s(machine, monkeypatch):
    monkeypatch.delattr(limits.os, "sched_getaffinity")
    monkeypatch.setattr(limits.os, "cpu_count", lambda: 6)
    assert limits.cores_available() == 6


def test_bin_serve_starts_one_web_process_per_core_of_the_quota(machine):
    """Each web process holds its own model: a container given two of 16 cores gets two."""
    from imagesim import serve

    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "200000 100000"})
    assert serve.process_count(None) == 2
    assert serve.process_count("3") == 3  # WEB_PROCESSES set: as set


def test_the_exact_scan_is_split_over_the_quota_s_cores(machine, settings):
    from search.index.exact import ExactIndex

    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "300000 100000"})
    settings.SEARCH_SCAN_THREADS = 0
    assert ExactIndex()._parts == 3
    settings.SEARCH_SCAN_THREADS = 5
    assert ExactIndex()._parts == 5


def test_a_quota_s_cores_are_told_apart_from_the_process_s_own(machine, monkeypatch):
    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "max 100000"})
    assert limits.cores_of_quota() is None
    group(root, {"cpu.max": "250000 100000"})
    assert limits.cores_of_quota() == 3
    monkeypatch.setattr(limits.os, "sched_getaffinity", lambda pid: {0, 1})
    assert limits.cores_of_quota() is None  # the quota leaves more than the two it may use


def tiny_model():
    """A one-layer OpenVINO model: what the compile does with threads, not what it runs."""
    import numpy as np
    import openvino as ov
    from openvino import opset13 as ops

    features = ops.parameter([1, 16], np.float32)
    return ov.Model([ops.matmul(features, ops.constant(np.eye(16, dtype=np.float32)),
                                False, False)], [features])


def test_the_model_runs_on_the_quota_s_cores(machine):
    """OpenVINO counts the machine's cores, not a container's quota: told the quota's."""
    from features.extractors.openvino_runtime import compiled_model

    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "100000 100000"})  # one core of the 16 it may run on
    compiled = compiled_model(tiny_model(), precision="float32")
    assert compiled.get_property("INFERENCE_NUM_THREADS") == 1
    assert compiled.get_property("NUM_STREAMS") == 1


def test_without_a_quota_the_model_gets_openvino_s_own_choice(machine):
    import openvino as ov

    from features.extractors.openvino_runtime import compiled_model

    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    group(root, {"cpu.max": "max 100000"})
    own = ov.Core().compile_model(tiny_model(), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
    compiled = compiled_model(tiny_model(), precision="float32")
    assert (compiled.get_property("INFERENCE_NUM_THREADS")
            == own.get_property("INFERENCE_NUM_THREADS"))
    assert compiled.get_property("NUM_STREAMS") == own.get_property("NUM_STREAMS")


def test_under_a_quota_numpy_s_blas_runs_on_the_quota_s_cores(machine):
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    proc, root = machine
    (proc / "cgroup").write_text("0::/\n")
    # From a known count (an exact scan earlier in the process keeps BLAS to one thread).
    with threadpool_limits(limits=4, user_api="blas"):
        group(root, {"cpu.max": "max 100000"})
        assert limits.blas_to_quota() is None
        assert blas_threads() == {4}
        group(root, {"cpu.max": "300000 100000"})  # three of the 16 cores it may run on
        limiter = limits.blas_to_quota()
        try:
            assert blas_threads() == {3}
        finally:
            limiter.restore_original_limits()
