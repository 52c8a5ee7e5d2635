"""A small client of the simulation's API server: JSON over HTTPS with a bearer token.

The simulation reads lists (pods, nodes, budgets, Kueue workloads), scales workloads and
creates nodes; applies go through `flux-apply` (Flux's own apply code), so this client needs
no REST mapping, no watch and no retries beyond waiting for the server to come up. It talks
only to the throwaway API server on 127.0.0.1, trusting only that control plane's own CA.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, path: str, message: str) -> None:
        super().__init__(f"{status} from {path}: {message}")
        self.status = status


class Api:
    def __init__(self, server: str, token: str, ca_file: Path) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._context = ssl.create_default_context(cafile=str(ca_file))

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json", timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        for attempt in range(20):
            try:
                with urllib.request.urlopen(request, context=self._context, timeout=timeout) as response:
                    text = response.read()
                break
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")
                try:
                    detail = json.loads(detail).get("message", detail)
                except (ValueError, AttributeError):
                    pass
                # 429 "storage is (re)initializing" right after a CRD is established, 503 while a
                # component starts: the server says to come back, so come back (for 4 s at most).
                if exc.code in (429, 503) and attempt < 19:
                    time.sleep(0.2)
                    continue
                raise ApiError(exc.code, path, detail) from None
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
