"""A small client of the simulation's API server: JSON over HTTPS with a bearer token.

The simulation reads lists (pods, nodes, budgets, Kueue workloads), scales workloads and
creates nodes; applies go through `flux-apply` (Flux's own apply code), so this client needs
no REST mapping, no watch and no retries beyond waiting for the server to come up. It talks
only to the throwaway API server on 127.0.0.1, trusting only that control plane's own CA,
over one kept-alive connection per thread (a TLS handshake per request costs both sides
more than most of the requests themselves).
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ApiError(Exception):
    def __init__(self, status: int, path: str, message: str) -> None:
        super().__init__(f"{status} from {path}: {message}")
        self.status = status


class Api:
    def __init__(self, server: str, token: str, ca_file: Path) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._context = ssl.create_default_context(cafile=str(ca_file))
        address = urlsplit(self.server)
        self._host, self._port = address.hostname or "127.0.0.1", address.port or 443
        self._local = threading.local()

    def _connection(self, timeout: float) -> http.client.HTTPSConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPSConnection(self._host, self._port, context=self._context, timeout=timeout)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _send(self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        """One request on this thread's connection; a connection the server closed in between
        (idle, or the server restarting) is opened again once."""
        for retry in (True, False):
            connection = self._connection(timeout)
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                stale = isinstance(exc, (http.client.RemoteDisconnected, http.client.CannotSendRequest, http.client.BadStatusLine, BrokenPipeError, ConnectionResetError))
                if retry and stale:
                    continue
                if isinstance(exc, OSError):
                    raise
                raise ConnectionError(f"{method} {path}: {exc!r}") from exc
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json", timeout: float = 30,
                accept: str = "application/json") -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": accept}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in range(20):
            status, text = self._send(method, path, data, headers, timeout)
            if status < 400:
                break
            detail = text.decode(errors="replace")
            try:
                detail = json.loads(detail).get("message", detail)
            except (ValueError, AttributeError):
                pass
            # 429 "storage is (re)initializing" right after a CRD is established, 503 while a
            # component starts: the server says to come back, so come back (for 4 s at most).
            if status in (429, 503) and attempt < 19:
                time.sleep(0.2)
                continue
            raise ApiError(status, path, detail)
        if not text:
            return None
        if path.endswith(("/readyz", "/healthz", "/livez")):
            return text.decode()
        return json.loads(text)

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def items(self, path: str) -> list[dict[str, Any]]:
        """The items of a list, e.g. items('/api/v1/pods'); [] when the resource is not served."""
        try:
            return self.get(path).get("items") or []
        except ApiError as exc:
            if exc.status == 404:
                return []
            raise

    def create(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, body)

    def merge_patch(self, path: str, patch: dict[str, Any], *, field_manager: str = "aiops-simulate") -> Any:
        from urllib.parse import quote

        return self.request("PATCH", f"{path}?fieldManager={quote(field_manager)}", patch, content_type="application/merge-patch+json")
