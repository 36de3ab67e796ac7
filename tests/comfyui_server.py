# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run a real ComfyUI as a subprocess and talk to it over HTTP and its websocket (stdlib only).

Used by test_comfyui_e2e.py. The test process never imports ComfyUI: it may run a different Python.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable

from PIL import Image


def comfyui_python(comfy_path: str) -> str:
    """ComfyUI's own venv if it has one, else $COMFYUI_PYTHON, else this interpreter."""
    venv_python = os.path.join(comfy_path, "venv", "bin", "python")
    if os.path.isfile(venv_python):
        return venv_python
    return os.environ.get("COMFYUI_PYTHON") or sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComfyUIProcess:
    """``python main.py --cpu ...`` with its combined output in a log file."""

    def __init__(self, comfy_path: str, python: str, port: int, args: list[str], log_path: str, env: dict):
        self.comfy_path = comfy_path
        self.command = [
            python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
            "--disable-auto-launch", "--disable-api-nodes", *args,
        ]
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.comfy_path, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_until_ready(self, client: ComfyClient, path: str, timeout: float) -> None:
        """Poll ``path`` until it answers 200; fail early (with the log) if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"ComfyUI exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                client.get(path, timeout=5)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        raise TimeoutError(f"ComfyUI did not answer {path} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if not self.is_running():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def log_tail(self, max_chars: int = 20_000) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return "(no log)"
        return text[-max_chars:]


class PromptRejected(AssertionError):
    """POST /prompt answered with a validation error."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"/prompt answered {status}: {json.dumps(body, indent=1)[:4000]}")
        self.status = status
        self.body = body


class ComfyClient:
    """The few HTTP endpoints the tests need."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.base_url = f"http://{host}:{port}"

    def _request(self, path: str, body: dict | None = None, timeout: float = 30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str, timeout: float = 30):
        status, raw = self._request(path, timeout=timeout)
        if status != 200:
            raise urllib.error.URLError(f"GET {path} answered {status}: {raw[:500]!r}")
        return json.loads(raw)

    def get_bytes(self, path: str) -> tuple[int, bytes]:
        """GET a file: (status, body)."""
        return self._request(path)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        status, raw = self._request(path, body)
        return status, (json.loads(raw) if raw.strip() else {})

    def queue_prompt(self, prompt: dict, client_id: str | None = None, targets: list[str] | None = None) -> str:
        """POST /prompt; returns the prompt id, or raises PromptRejected on a validation error.

        ``targets``: only these output nodes (and what they need) are validated and run
        (``partial_execution_targets``, what the frontend sends for "Queue selected output nodes").
        """
        body = {"prompt": prompt, "client_id": client_id or uuid.uuid4().hex}
        if targets is not None:
            body["partial_execution_targets"] = list(targets)
        status, answer = self.post("/prompt", body)
        if status != 200 or answer.get("node_errors"):
            raise PromptRejected(status, answer)
        return answer["prompt_id"]

    def wait_for_history(self, prompt_id: str, timeout: float) -> dict:
        """The /history entry of a finished prompt (success, error or interrupted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            history = self.get(f"/history/{prompt_id}")
            if prompt_id in history:
                return history[prompt_id]
            time.sleep(0.2)
        raise TimeoutError(f"prompt {prompt_id} did not finish within {timeout:.0f} s (queue: {self.get('/queue')})")

    def pending_prompt_ids(self) -> list[str]:
        return [item[1] for item in self.get("/queue")["queue_pending"]]

    def delete_pending(self, prompt_id: str) -> None:
        """Remove a prompt from the queue before it starts (a running prompt is not affected)."""
        status, _ = self.post("/queue", {"delete": [prompt_id]})
        assert status == 200, f"/queue delete answered {status}"

    def interrupt(self, prompt_id: str | None = None) -> None:
        status, _ = self.post("/interrupt", {"prompt_id": prompt_id} if prompt_id else {})
        assert status == 200, f"/interrupt answered {status}"

    def view(self, image_ref: dict) -> Image.Image:
        """An image listed in a node's ui output ({filename, subfolder, type})."""
        query = urllib.parse.urlencode({k: image_ref[k] for k in ("filename", "subfolder", "type")})
        status, raw = self._request(f"/view?{query}")
        assert status == 200, f"/view?{query} answered {status}"
        image = Image.open(io.BytesIO(raw))
        image.load()
        return image


def status_events(entry: dict) -> list[str]:
    """Event names recorded in a history entry, e.g. ['execution_start', ..., 'execution_success']."""
    return [event for event, _ in entry["status"]["messages"]]


def status_message(entry: dict, event: str) -> dict | None:
    """The data of the first ``event`` message of a history entry, or None."""
    return next((data for name, data in entry["status"]["messages"] if name == event), None)


class WebSocketMessages:
    """A minimal RFC 6455 client for ComfyUI's /ws: collects its JSON (text) messages in a thread.

    Binary frames (latent previews) are skipped. Only what ComfyUI's aiohttp server sends is handled:
    unmasked, possibly fragmented data frames and close.
    """

    def __init__(self, host: str, port: int, client_id: str, timeout: float = 10):
        self.client_id = client_id
        self.messages: list[dict] = []
        self._changed = threading.Condition()
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._handshake(host, port)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._read_loop, name="comfyui-ws", daemon=True)
        self._thread.start()

    def _handshake(self, host: str, port: int) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            (
                f"GET /ws?clientId={self.client_id} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        header = b""
        while not header.endswith(b"\r\n\r\n"):  # byte by byte: the first frame may follow at once
            chunk = self._sock.recv(1)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            header += chunk
        status_line = header.split(b"\r\n", 1)[0]
        if b" 101 " not in status_line:
            raise ConnectionError(f"websocket handshake failed: {status_line!r}")

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("websocket closed")
            data += chunk
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._recv_exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._recv_exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._recv_exact(8))[0]
        mask = self._recv_exact(4) if second & 0x80 else None
        payload = self._recv_exact(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def _read_loop(self) -> None:
        opcode, parts = None, []
        try:
            while True:
                fin, frame_opcode, payload = self._read_frame()
                if frame_opcode == 0x8:  # close
                    return
                if frame_opcode in (0x1, 0x2):
                    opcode, parts = frame_opcode, [payload]
                elif frame_opcode == 0x0:
                    parts.append(payload)
                else:  # ping/pong: ComfyUI sends none
                    continue
                if fin and opcode == 0x1:
                    with self._changed:
                        self.messages.append(json.loads(b"".join(parts)))
                        self._changed.notify_all()
        except (ConnectionError, OSError, ValueError):
            return

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float) -> dict:
        """The first message (already received or arriving within ``timeout``) that matches."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                match = next((m for m in self.messages if predicate(m)), None)
                if match is not None:
                    return match
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [m.get("type") for m in self.messages]
                    errors = [m["data"] for m in self.messages if m.get("type") == "execution_error"]
                    raise TimeoutError(f"no matching websocket message within {timeout:.0f} s; got {kinds} {errors}")
                self._changed.wait(left)

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)
