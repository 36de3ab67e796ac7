# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where the networks sit while they work. ComfyUI plugs its own memory manager in here."""

from __future__ import annotations

import torch


class DirectPlacement:
    """Plain device placement: load a network onto the compute device when needed and, optionally,
    move the ReferenceNets back to the CPU once their states exist, so the peak is one UNet plus states."""

    def __init__(self, device: torch.device, offload: bool = False):
        self.device = torch.device(device)
        self.offload_enabled = offload and self.device.type != "cpu"

    def load(self, *modules: torch.nn.Module) -> None:
        for module in modules:
            module.to(self.device)

    def offload(self, *modules: torch.nn.Module) -> None:
        if self.offload_enabled:
            for module in modules:
                module.to("cpu")
