"""What a tree's Azure Traffic Manager policy is billed for, and why `aiops cost` does not price it.

Traffic Manager is not billed per profile: Azure bills DNS queries per million, and each
health-checked endpoint per month, at one rate for Azure endpoints and another for external
ones, with a surcharge per endpoint for fast-interval (10-second) checks. The items are read
from the traffic stacks' Terraform (azurerm_traffic_manager_profile and its
azurerm_traffic_manager_external_endpoint / _azure_endpoint resources).

No price is used: this project found no published figure it can cite. The transcript of Azure's
pricing page that this project's Route 53 prices come from (api-evangelist's harvest of
azure.microsoft.com/en-us/pricing/details/traffic-manager, plans/microsoft-azure-traffic-manager-
plans-pricing.yml, read 2026-09-20) says "No numeric price is published on the pricing page;
Pricing table renders all values as "$-"". So each billed item is listed in a warning, as a
missing spot price is, and stays out of the totals, instead of being guessed.
"""

from __future__ import annotations

from collections import Counter

from aiops.cost.prices import PriceWarning
from aiops.tree.terraform import TerraformTree

TRAFFIC_MANAGER_SOURCE = ("azure.microsoft.com/en-us/pricing/details/traffic-manager, as transcribed in api-evangelist/microsoft-azure-traffic-manager "
                          "plans/microsoft-azure-traffic-manager-plans-pricing.yml (2026-09-20): \"No numeric price is published on the pricing page\"")
ENDPOINT_TYPES = {"azurerm_traffic_manager_external_endpoint": "external", "azurerm_traffic_manager_azure_endpoint": "Azure"}


def _profile_of(endpoint_body: dict) -> str:
    """The profile resource's name an endpoint's profile_id refers to ('' when not a reference)."""
    text = str(endpoint_body.get("profile_id", ""))
    prefix = "${azurerm_traffic_manager_profile."
    return text[len(prefix):].split(".")[0] if text.startswith(prefix) else ""


def traffic_manager_warnings(tree: TerraformTree) -> list[PriceWarning]:
    """One warning per Traffic Manager profile: what it is billed for, unpriced."""
    warnings = []
    for profile in tree.of_type("azurerm_traffic_manager_profile"):
        name = profile.address.split(".", 1)[1]
        monitor = profile.body.get("monitor_config") or {}
        monitor = monitor[0] if isinstance(monitor, list) and monitor else monitor
        fast = monitor.get("interval_in_seconds") == 10
        endpoints: Counter[str] = Counter()
        for resource_type, kind in ENDPOINT_TYPES.items():
            for endpoint in tree.of_type(resource_type):
                if endpoint.file == profile.file and _profile_of(endpoint.body) == name:
                    endpoints[kind] += 1
        checked = ", ".join(f"{count} {kind} endpoint(s)" for kind, count in sorted(endpoints.items())) or "no endpoints"
        surcharge = ", each with the fast-interval (10 s) surcharge" if fast else ""
        warnings.append(PriceWarning(
            "traffic-manager",
            f"Azure Traffic Manager {profile.address} ({profile.file}) is not in the totals: it is billed per million DNS queries and per "
            f"health-checked endpoint a month ({checked}{surcharge}), and no price with a source was found ({TRAFFIC_MANAGER_SOURCE}): "
            "see Azure's pricing calculator",
            (profile.environment or "",),
        ))
    return warnings
