"""Graphs shipped by a package: Zachary's karate club, as networkx ships it (chapter 3)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["Graph", "karate_club"]

class Graph(NamedTuple):
    """A small graph for node classification."""

    adjacency: Tensor  # (N, N) bool, symmetric, no self-loops
    labels: Tensor  # (N,) node classes
    class_names: tuple[str, ...]


def karate_club() -> Graph:
    """Zachary's karate club (34 members, 78 friendships), as shipped by networkx.

    The labels are the two groups the club split into: 0 = "Mr. Hi" (the
    instructor's), 1 = "Officer" (the administrator's).
    """
    import networkx as nx

    g = nx.karate_club_graph()
    N = g.number_of_nodes()
    edges = torch.tensor(list(g.edges()), dtype=torch.long)  # (78, 2)
    adjacency = torch.zeros(N, N, dtype=torch.bool)
    adjacency[edges[:, 0], edges[:, 1]] = True
    adjacency[edges[:, 1], edges[:, 0]] = True
    names = ("Mr. Hi", "Officer")
    labels = torch.tensor([names.index(g.nodes[i]["club"]) for i in range(N)])
    return Graph(adjacency, labels, names)
