"""What a tree's Cloud DNS failover policy (a primary on Google Cloud) is billed for, unpriced.

Cloud DNS bills the managed zone a month and queries per million, and the health check of a
routing policy's external endpoints is billed too; this project has no price of them with a
source, so, as for Traffic Manager (traffic_manager.py) and a missing spot price, `aiops cost`
lists what is billed in a warning and leaves it out of the totals instead of guessing.
"""

from __future__ import annotations

from aiops.cost.prices import PriceWarning
from aiops.tree.terraform import TerraformTree


def cloud_dns_warnings(tree: TerraformTree) -> list[PriceWarning]:
    warnings = []
    for record in tree.of_type("google_dns_record_set"):
        policy = record.body.get("routing_policy") or {}
        policy = policy[0] if isinstance(policy, list) and policy else policy
        if not isinstance(policy, dict) or not policy.get("health_check"):
            continue
        warnings.append(PriceWarning(
            "cloud-dns",
            f"Cloud DNS {record.address} ({record.file}) is not in the totals: its zone, its queries (per million) and the health checks of "
            "its routing policy's endpoints are billed, and this project has no price of them with a source: see Google Cloud's pricing calculator",
            (record.environment or "",),
        ))
    return warnings
