# SPDX-License-Identifier: AGPL-3.0-or-later
"""The precision rule: ``auto`` is bf16 only on CPUs that compute it natively, and the same everywhere."""

import pytest
import torch
from conftest import TINY_MODEL

from faceanon.core import precision
from faceanon.core.precision import auto_dtype, cpu_has_native_bf16, resolve_dtype

CPU = torch.device("cpu")


@pytest.fixture
def cpu_features(monkeypatch):
    """Pretend the CPU has the given feature names."""

    def pretend(*names):
        monkeypatch.setattr(precision, "_cpu_features", lambda: set(names))

    return pretend


@pytest.mark.parametrize("features, expected", [
    (("avx2", "fma3"), torch.float32),  # an older server or laptop: bf16 would be emulated, slower than fp32
    (("avx512_f", "avx512_bw"), torch.float32),  # AVX-512 without its BF16 extension
    (("avx512_f", "avx512_bf16"), torch.bfloat16),  # AMD Zen 4, Intel Cooper Lake
    (("avx512_f", "amx_tile", "amx_bf16"), torch.bfloat16),  # Intel Sapphire Rapids and later
    ((), torch.float32),  # nothing known
])
def test_auto_is_bf16_only_on_cpus_with_native_bf16(cpu_features, features, expected):
    cpu_features(*features)
    assert auto_dtype(CPU) == expected
    assert resolve_dtype(None, CPU) == resolve_dtype("auto", CPU) == expected


def test_named_precisions_are_kept_on_any_cpu(cpu_features):
    cpu_features("amx_bf16")
    assert resolve_dtype("fp32", CPU) == torch.float32, "fp32, the parity reference, stays one flag away"
    cpu_features("avx2")
    assert resolve_dtype("bf16", CPU) == torch.bfloat16


def test_the_cpu_features_come_from_torch_or_else_from_the_kernel(monkeypatch):
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        flags = next((set(line.split(":", 1)[1].split()) for line in cpuinfo if line.startswith("flags")), None)
    if flags is None:
        pytest.skip("no /proc/cpuinfo flags on this system")
    kernel_says = bool(flags & {"amx_bf16", "avx512_bf16"})
    assert cpu_has_native_bf16() == kernel_says

    def broken():
        raise RuntimeError("private API changed")

    monkeypatch.setattr(torch._C._cpu, "_get_cpu_capability", broken, raising=False)
    assert precision._cpu_features() == flags
    assert cpu_has_native_bf16() == kernel_says


def test_gpus_follow_the_host_applications_judgement_when_it_gives_one():
    gpu = torch.device("cuda")  # no CUDA needed: the host's answer decides
    assert auto_dtype(gpu, lambda device: torch.bfloat16) == torch.bfloat16
    assert auto_dtype(gpu, lambda device: None) == torch.float32


def test_the_cli_the_nodes_and_the_api_resolve_auto_alike(cpu_features):
    from faceanon.cli.devices import choose_device_and_dtype
    from faceanon.core import FaceAnonPipeline
    from faceanon.nodes.memory import auto_dtype as node_auto_dtype

    for features, expected in ((("amx_bf16",), torch.bfloat16), (("avx2",), torch.float32)):
        cpu_features(*features)
        assert choose_device_and_dtype("cpu", "auto") == (CPU, expected)
        assert node_auto_dtype(CPU) == expected
        pipe = FaceAnonPipeline.from_pretrained(TINY_MODEL, device="cpu")
        assert pipe.dtype == expected and pipe.models.unet.dtype == expected
