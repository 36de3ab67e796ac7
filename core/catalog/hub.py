# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where downloads come from, and a fast check that they can come at all.

Every download in FaceAnon goes through here, so ``HF_ENDPOINT`` (a mirror) and ``HF_HUB_OFFLINE`` are
honoured the same way everywhere, read when the download is asked for, not at import.
"""

from __future__ import annotations

import os
import socket
import urllib.parse

PUBLIC_HUB = "https://huggingface.co"
CONNECT_TIMEOUT_S = 1.0


def hub_endpoint() -> str:
    """The Hugging Face server in use: $HF_ENDPOINT, else huggingface.co."""
    return os.environ.get("HF_ENDPOINT") or PUBLIC_HUB


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


def check_reachable(url: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise OSError within ``timeout`` when ``url``'s server cannot be reached or HF_HUB_OFFLINE is set.

    huggingface_hub retries an unreachable server for about 20 s; a plain connect fails at once.
    """
    if hub_offline():
        raise OSError("HF_HUB_OFFLINE is set")
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.create_connection((parts.hostname, port), timeout=timeout):
        pass
