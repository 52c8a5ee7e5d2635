"""Findings as text (people), JSON (scripts) and SARIF 2.1.0 (code-scanning uploads)."""

from __future__ import annotations

import json
from pathlib import Path

from aiops.validate.validator import Report
from aiops.validate.findings import RULES, SEVERITIES, Finding

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _counts(report: Report) -> dict[str, int]:
    return {severity: sum(1 for f in report.findings if f.level == severity) for severity in SEVERITIES}


def _minor(version: str) -> str:
    return version.rsplit(".", 1)[0]


def _versions(report: Report) -> str:
    """'Kubernetes 1.36 schemas', or which folders were checked at which version when they differ."""
    versions = report.kubernetes_versions
    if len(versions) == 1:
        return f"Kubernetes {_minor(versions[0])} schemas"
    parts = []
    for version in versions:
        where = [folder or "other files" for folder, v, _ in report.kubernetes_scopes if v == version]
        parts.append(f"{_minor(version)} for {', '.join(where)}")
    return f"Kubernetes schemas {'; '.join(parts)}"


def summary(report: Report) -> str:
    counts = _counts(report)
    found = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n) or "no findings"
    return f"{found} in {report.files} files ({report.objects} objects; {_versions(report)})"


def text(report: Report) -> str:
    lines = []
    for f in report.findings:
        where = f"{f.file}:{f.line}" if f.line else f.file
        lines.append(f"{where}: {f.level} [{f.rule.id}] {f.object + ': ' if f.object else ''}{f.message}")
        lines.append(f"    fix: {f.hint}")
    lines.append(f"aiops validate: {summary(report)}")
    return "\n".join(lines) + "\n"


def _as_dict(f: Finding) -> dict:
    return {"rule": f.rule.id, "severity": f.level, "file": f.file, "line": f.line, "object": f.object, "message": f.message, "fix": f.hint}


def as_json(report: Report) -> str:
    document = {
        # one version for the whole tree, else null (then kubernetesVersions says which folder had which)
        "kubernetesVersion": _minor(report.kubernetes_versions[0]) if len(report.kubernetes_versions) == 1 else None,
        "kubernetesVersions": [{"path": folder, "version": _minor(version), "from": source}
                               for folder, version, source in report.kubernetes_scopes],
        "summary": {**_counts(report), "files": report.files, "objects": report.objects},
        "findings": [_as_dict(f) for f in report.findings],
    }
    return json.dumps(document, indent=2) + "\n"


def _uri(file: str) -> dict:
    path = Path(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": path.as_posix(), "uriBaseId": "%SRCROOT%"}


def sarif(report: Report, tool_version: str) -> str:
    rules = sorted(RULES.values(), key=lambda r: r.id)
    index = {rule.id: i for i, rule in enumerate(rules)}
    results = []
    for f in report.findings:
        location: dict = {"artifactLocation": _uri(f.file)}
        if f.line:
            location["region"] = {"startLine": f.line}
        result = {
            "ruleId": f.rule.id,
            "ruleIndex": index[f.rule.id],
            "level": _SARIF_LEVEL[f.level],
            "message": {"text": f"{f.object + ': ' if f.object else ''}{f.message}\nfix: {f.hint}"},
            "locations": [{"physicalLocation": location}],
        }
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aiops validate",
                        "version": tool_version,
                        "rules": [
                            {
                                "id": rule.id,
                                "shortDescription": {"text": rule.summary},
                                "help": {"text": f"fix: {rule.fix}"},
                                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                            }
                            for rule in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
