"""Kubernetes resource quantities ("500m", "16Gi") and Dask byte sizes ("7GB"), as numbers.

Only what the platform writes is accepted: a plain decimal number with an optional suffix.
Exponent forms ("1e3") are legal Kubernetes but no one writes them in an environment file, and
refusing them keeps every comparison exact (Decimal, never float).
"""

from __future__ import annotations

import re
from decimal import Decimal

# Kubernetes quantity suffixes: decimal SI (m is milli) and binary (Ki = 1024).
_KUBERNETES_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
QUANTITY_RE = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")

# Dask's parse_bytes (dask.utils): case-insensitive, "GB" = 10**9, "GiB" = 2**30, "B" optional.
_DASK_SUFFIXES: dict[str, Decimal] = {
    "b": Decimal(1),
    "kb": Decimal(10) ** 3, "mb": Decimal(10) ** 6, "gb": Decimal(10) ** 9, "tb": Decimal(10) ** 12,
    "kib": Decimal(2) ** 10, "mib": Decimal(2) ** 20, "gib": Decimal(2) ** 30, "tib": Decimal(2) ** 40,
    "k": Decimal(10) ** 3, "m": Decimal(10) ** 6, "g": Decimal(10) ** 9, "t": Decimal(10) ** 12,
    "ki": Decimal(2) ** 10, "mi": Decimal(2) ** 20, "gi": Decimal(2) ** 30, "ti": Decimal(2) ** 40,
}
DASK_BYTES_RE = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(?P<suffix>[kKmMgGtT]?[iI]?[bB]?)$")
GIB = Decimal(2) ** 30


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity: cores for CPU ("500m" -> 0.5), bytes for memory."""
    match = QUANTITY_RE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a Kubernetes quantity")
    return Decimal(match["number"]) * _KUBERNETES_SUFFIXES[match["suffix"] or ""]


def parse_dask_bytes(text: str) -> Decimal:
    """Bytes of a Dask size such as the worker's `--memory-limit 7GB` (decimal GB, as Dask reads it)."""
    match = DASK_BYTES_RE.match(text)
    suffix = (match["suffix"] or "b").lower() if match else ""
    if not match or suffix not in _DASK_SUFFIXES or not match["suffix"]:
        raise ValueError(f"'{text}' is not a Dask byte size")
    return Decimal(match["number"]) * _DASK_SUFFIXES[suffix]


def format_memory(gib: Decimal) -> str:
    """A memory quantity for manifests: whole Gi when exact, else whole Mi (rounded down)."""
    if gib == gib.to_integral_value():
        return f"{int(gib)}Gi"
    return f"{int(gib * 1024)}Mi"

