"""Taint effects as each cloud API spells them; the model keeps the Kubernetes spelling."""

from __future__ import annotations

from aiops.model import Taint

# EKS API (aws_eks_node_group.taint.effect) and GKE API (node_config.taint.effect).
_UPPER_SNAKE = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


def eks_effect(taint: Taint) -> str:
    return _UPPER_SNAKE[taint.effect]


def gke_effect(taint: Taint) -> str:
    return _UPPER_SNAKE[taint.effect]


def aks_taint(taint: Taint) -> str:
    """AKS takes taints as strings, `key=value:Effect`, in Kubernetes spelling."""
    return str(taint)
