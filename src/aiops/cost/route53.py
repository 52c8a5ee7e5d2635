"""What a tree's Route 53 traffic policy costs a month: hosted zones, health checks, queries.

Read from the Terraform of the traffic stacks (aws_route53_health_check resources and the
aws_route53_zone they look up), priced with Route 53's list prices as AWS's pricing page gave
them (`ROUTE53_PRICES`, with its source and date). Route 53 prices are global: one table for
every region.

- A health check is billed by what it checks: an AWS endpoint (the ALB, found with `data.aws_lb`
  or named *.amazonaws.com) or any other (the AKS load balancer's *.cloudapp.azure.com), plus
  each optional feature it uses: HTTPS, the 10-second interval, string matching, latency
  measurement. Which features are optional follows infracost's Route 53 health check
  (internal/resources/aws/route53_health_check.go: HTTPS*, request_interval 10, measure_latency,
  *_STR_MATCH), which also prices a CALCULATED check as a basic check of an AWS endpoint. The
  price page's "up to 50 health checks for AWS endpoints free" applies per account, which a tree
  does not know: list prices are used.
- A hosted zone the stack looks up is listed at its monthly price; it is billed whether or not
  the stack exists, so it is a line of its own.
- Queries are billed per million, and no tree says how many clients ask: they are not in the
  totals, and a warning gives the rate (as a missing spot price is warned about).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aiops.cost.prices import PriceWarning
from aiops.tree.terraform import TerraformTree

ROUTE53_SOURCE = ("aws.amazon.com/route53/pricing, as transcribed verbatim (\"every price_text was found verbatim in the fetched page "
                  "text\") in api-evangelist/amazon-route53-resolver plans/amazon-route53-resolver-plans-pricing.yml")
ROUTE53_DATE = "2026-09-20"
ROUTE53_PRICES = {  # USD, from ROUTE53_SOURCE
    "hosted zone": Decimal("0.50"),  # per hosted zone per month, first 25
    "health check, AWS endpoint": Decimal("0.50"),  # per health check per month
    "health check, other endpoint": Decimal("0.75"),
    "optional feature, AWS endpoint": Decimal("1.00"),  # per optional feature per month
    "optional feature, other endpoint": Decimal("2.00"),
    "standard queries": Decimal("0.40"),  # per million queries, first billion a month
}


@dataclass(frozen=True)
class DnsCost:
    """One billed Route 53 item of a traffic stack, a month."""

    environment: str
    resource: str  # Terraform address
    file: str
    item: str  # what is billed, in words
    monthly_usd: Decimal
    features: tuple[str, ...] = ()  # the optional features billed


def _aws_endpoint(fqdn: object) -> bool:
    text = str(fqdn)
    return text.startswith("${data.aws_lb.") or text.endswith(".amazonaws.com")


def _features(body: dict) -> tuple[str, ...]:
    kind = str(body.get("type", ""))
    found = []
    if kind.startswith("HTTPS"):
        found.append("HTTPS")
    if body.get("request_interval") == 10:
        found.append("10-second interval")
    if kind.endswith("STR_MATCH"):
        found.append("string matching")
    if body.get("measure_latency") is True:
        found.append("latency measurement")
    return tuple(found)


def dns_costs(tree: TerraformTree) -> list[DnsCost]:
    costs = []
    for check in tree.of_type("aws_route53_health_check"):
        body = check.body
        if body.get("type") == "CALCULATED":
            aws, features = True, ()
        else:
            aws, features = _aws_endpoint(body.get("fqdn", "")), _features(body)
        where = "AWS endpoint" if aws else "other endpoint"
        monthly = ROUTE53_PRICES[f"health check, {where}"] + len(features) * ROUTE53_PRICES[f"optional feature, {where}"]
        item = f"{body.get('type', '?')} health check, {where}" + (f" + {', '.join(features)}" if features else "")
        costs.append(DnsCost(check.environment or "", check.address, check.file, item, monthly, features))
    for file, document in sorted(tree.files.items()):
        for name, zone in sorted(((document.get("data") or {}).get("aws_route53_zone") or {}).items()):
            environment = next((r.environment for r in tree.resources if r.file == file), None) or ""
            costs.append(DnsCost(environment, f"data.aws_route53_zone.{name}", file,
                                 f"hosted zone {zone.get('name', '?')} (looked up: billed whether or not this stack exists)", ROUTE53_PRICES["hosted zone"]))
    return sorted(costs, key=lambda c: (c.environment, c.resource))


def dns_warnings(costs: list[DnsCost], tree: TerraformTree) -> list[PriceWarning]:
    names = sorted({str(r.body.get("name")) for r in tree.of_type("aws_route53_record") if r.body.get("failover_routing_policy")})
    environments = tuple(sorted({c.environment for c in costs}))
    if not names:
        return []
    return [PriceWarning(
        "queries",
        f"Route 53 queries of {', '.join(names)} are not in the totals: {ROUTE53_PRICES['standard queries']} USD per million standard queries "
        f"(the first billion a month; {ROUTE53_DATE}), and how many clients ask is not known here",
        environments,
    )]


def cite() -> str:
    return f"Route 53: hosted zone {ROUTE53_PRICES['hosted zone']} USD/month; health check {ROUTE53_PRICES['health check, AWS endpoint']} (AWS endpoint) or " \
           f"{ROUTE53_PRICES['health check, other endpoint']} (other) USD/month, each optional feature {ROUTE53_PRICES['optional feature, AWS endpoint']} or " \
           f"{ROUTE53_PRICES['optional feature, other endpoint']} USD/month; standard queries {ROUTE53_PRICES['standard queries']} USD per million " \
           f"({ROUTE53_SOURCE}; {ROUTE53_DATE})"
