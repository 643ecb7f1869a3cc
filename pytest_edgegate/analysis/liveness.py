"""Peak activation memory by liveness over the topological order.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/analysis/liveness.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from .graph import GraphView


def peak_activation_bytes(
    view: GraphView,
    sizes_of: Callable[[GraphView], Callable[[str], int]],
    constants: Container[str],
) -> int:
    """Largest sum of live activation bytes over the steps of ``view`` (see module doc).

    ``sizes_of(graph)`` gives the lookup of a graph's activations' stored bytes by name.
    """
    tensor_bytes = sizes_of(view)
    nodes = view.nodes
    last_use: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for name in node.inputs:
            if name:
                last_use[name] = i
        for _, sub in node.subgraphs:
            for name in sub.outer_names:
                last_use[name] = i
    outputs = {vi.name for vi in view.proto.output}
    end = len(nodes)
    for name in outputs:
        last_use[name] = end

    live: dict[str, int] = {}
    total = 0
    for vi in view.proto.input[:]:
        name = vi.name
        if name in constants or name not in last_use:
            continue
        b = tensor_bytes(name)
        live[name] = b
        total += b
    peak = total
    for i, node in enumerate(nodes):
        for name in node.outputs:
            if name and name not in constants and name not in live:
                b = tensor_bytes(name)
                live[name] = b
                total += b
        if node.subgraphs:
            inner = 0
            for _, sub in node.subgraphs:
                inner = max(inner, peak_activation_bytes(sub, sizes_of, constants))
            peak = max(peak, total + inner)
            for _, sub in node.subgraphs:
                for name in sub.outer_names:
                    if name in live and last_use.get(name, -1) <= i:
                        total -= live.pop(name)
        elif total > peak:
            peak = total
        for name in node.inputs:
            if name in live and last_use[name] <= i:  # an input's last use is known
                total -= live.pop(name)
        for name in node.outputs:
            if name in live and last_use.get(name, -1) <= i:
                total -= live.pop(name)
    return peak
