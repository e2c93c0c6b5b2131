"""Which float precision the hardware runs natively, decided without TensorFlow where possible."""

from pathlib import Path

# CPU flags (Linux /proc/cpuinfo) that mean bfloat16 matrix maths in hardware.
BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_native_bf16(flags: set[str] | None = None) -> bool:
    return bool(BF16_CPU_FLAGS & (cpu_flags() if flags is None else flags))


def gpu_has_native_bf16(compute_capabilities: list[tuple[int, int]]) -> bool:
    """NVIDIA GPUs run bfloat16 natively from Ampere (compute capability 8.0) on."""
    return bool(compute_capabilities) and all(cc >= (8, 0) for cc in compute_capabilities)


def choose_precision(setting: str, *, cpu_bf16: bool, gpu_capabilities: list[tuple[int, int]]) -> str:
    """"float32" or "bfloat16": the setting when it forces one, else what the hardware runs best."""
    if setting in ("float32", "bfloat16"):
        return setting
    if gpu_capabilities:
        return "bfloat16" if gpu_has_native_bf16(gpu_capabilities) else "float32"
    return "bfloat16" if cpu_bf16 else "float32"
