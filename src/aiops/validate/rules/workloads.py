"""Rules on single objects: HPA metrics, extended resources, images, container resources, Secrets."""

from __future__ import annotations

from collections.abc import Iterator

from aiops.tree.shapes import mapping, sequence
from aiops.tree.workloads import quantity
from aiops.validate.context import Context, finding, upper_first
from aiops.validate.findings import (
    CONTAINER_RESOURCES,
    EXTENDED_RESOURCE,
    HPA_RESOURCE_METRIC,
    IMAGE_UNPINNED,
    SECRET_PLAINTEXT,
    Finding,
)

METRICS_SERVER_RESOURCES = ("cpu", "memory")


def hpa_resource_metrics(ctx: Context) -> Iterator[Finding]:
    for hpa in ctx.manifests:
        if hpa.group != "autoscaling" or hpa.kind != "HorizontalPodAutoscaler":
            continue
        for index, metric in enumerate(sequence(mapping(hpa.body.get("spec")).get("metrics"))):
            if not isinstance(metric, dict) or metric.get("type") not in ("Resource", "ContainerResource"):
                continue
            field = "resource" if metric["type"] == "Resource" else "containerResource"
            name = mapping(metric.get(field)).get("name")
            if isinstance(name, str) and name and name not in METRICS_SERVER_RESOURCES:
                yield finding(
                    HPA_RESOURCE_METRIC, hpa, ("spec", "metrics", index, field, "name"),
                    f"metric {index + 1} is a {metric['type']} metric on '{name}': the resource metrics API (metrics-server) "
                    "serves only cpu and memory, so the HPA cannot read it and stops scaling (FailedGetResourceMetric)",
                    f"replace it with a Pods metric such as DCGM_FI_DEV_GPU_UTIL (dcgm-exporter -> Prometheus -> prometheus-adapter) "
                    f"or an External metric (KEDA)" if "gpu" in name else None,
                )


def _extended(name: str) -> bool:
    """Extended resources: a domain-prefixed name outside kubernetes.io (nvidia.com/gpu, amd.com/gpu, ...)."""
    if "/" not in name:
        return False
    domain = name.split("/", 1)[0]
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io"))


def extended_resources(ctx: Context) -> Iterator[Finding]:
    for template in ctx.templates:
        for path, container in template.containers():
            resources = mapping(container.get("resources"))
            requests, limits = mapping(resources.get("requests")), mapping(resources.get("limits"))
            for name, requested in requests.items():
                if not isinstance(name, str) or not _extended(name):
                    continue
                who = upper_first(template.container_name(container))
                if name not in limits:
                    yield finding(
                        EXTENDED_RESOURCE, template.manifest, (*path, "resources", "requests", name),
                        f"{who} requests {name}: {requested} without a limit; the API server rejects this, because extended "
                        "resources cannot be overcommitted",
                        f"add resources.limits.{name}: {requested} (equal to the request)",
                    )
                elif quantity(limits[name]) != quantity(requested):
                    yield finding(
                        EXTENDED_RESOURCE, template.manifest, (*path, "resources", "limits", name),
                        f"{who} requests {name}: {requested} but limits it to {limits[name]}; the API server rejects a request "
                        "that differs from the limit for extended resources",
                        f"make the request and the limit of {name} equal",
                    )


def _image_problem(image: str) -> str | None:
    if "@" in image:
        return None  # pinned by digest
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag, so it runs whatever `latest` is when the node pulls it"
    if last.rsplit(":", 1)[1] == "latest":
        return "is tagged `latest`, which moves: two nodes can run different code"
    return None


def images(ctx: Context) -> Iterator[Finding]:
    for template in ctx.templates:
        for path, container in template.containers():
            image = container.get("image")
            if not isinstance(image, str) or not image:
                continue
            problem = _image_problem(image)
            if problem:
                yield finding(
                    IMAGE_UNPINNED, template.manifest, (*path, "image"),
                    f"{upper_first(template.container_name(container))}: image {image} {problem}",
                )


def container_resources(ctx: Context) -> Iterator[Finding]:
    for template in ctx.templates:
        for path, container in template.containers():
            resources = mapping(container.get("resources"))
            requests, limits = mapping(resources.get("requests")), mapping(resources.get("limits"))
            # A limit without a request makes the request default to the limit.
            missing = [f"requests.{r}" for r in ("cpu", "memory") if r not in requests and r not in limits]
            missing += [f"limits.{r}" for r in ("cpu", "memory") if r not in limits]
            if missing:
                yield finding(
                    CONTAINER_RESOURCES, template.manifest, (*path, "resources") if resources else path,
                    f"{upper_first(template.container_name(container))} has no {', '.join(missing)}: "
                    "the scheduler cannot place it reliably and one pod can starve its node",
                    f"set resources.{' and resources.'.join(missing)}",
                )


def plaintext_secrets(ctx: Context) -> Iterator[Finding]:
    for secret in ctx.manifests:
        if secret.group != "" or secret.kind != "Secret" or "sops" in secret.body:
            continue  # a SOPS-encrypted Secret carries its `sops` metadata at the top level
        keys = sorted({str(k) for section in ("data", "stringData") if isinstance(secret.body.get(section), dict) for k in secret.body[section]})
        if keys and ctx.committed(secret.file):
            section = "stringData" if secret.body.get("stringData") else "data"
            yield finding(
                SECRET_PLAINTEXT, secret, (section,),
                f"holds plaintext values ({', '.join(keys)}) in a file git tracks: anyone who can read "
                "the repository can read them (base64 is an encoding, not encryption)",
            )


CHECKS = (hpa_resource_metrics, extended_resources, images, container_resources, plaintext_secrets)
