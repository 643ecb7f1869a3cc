"""A light, read-only view of an ONNX graph: nodes in topological order, with scopes.

Protobuf field access is slow in Python, so every node is read once into a small record
(names, inputs, outputs, attributes by name) that the shape, counting and liveness passes
share.  Subgraphs (``If`` branches, ``Loop``/``Scan`` bodies) become child views whose
``scope`` names where they live, e.g. ``"loop_0/body"``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from onnx import AttributeProto, GraphProto, NodeProto, helper

from ..errors import ModelError

DEFAULT_DOMAINS = ("", "ai.onnx")
_GRAPH, _GRAPHS = AttributeProto.GRAPH, AttributeProto.GRAPHS
_GRAPH_KINDS = frozenset((_GRAPH, _GRAPHS))
_INT, _INTS, _FLOAT = AttributeProto.INT, AttributeProto.INTS, AttributeProto.FLOAT
#: The attributes of every node that has none (read-only: records share it).
_NO_ATTRIBUTES: Mapping[str, AttributeProto] = MappingProxyType({})


def op_names(text: str) -> tuple[str, ...]:
    """Names written as one space-separated string: long operator tables read better so."""
    return tuple(text.split())


def normalize_domain(domain: str) -> str:
    """``"ai.onnx"`` and ``""`` are the same default domain; report both as ``""``."""
    return "" if domain in DEFAULT_DOMAINS else domain


@dataclass(eq=False, slots=True)
class NodeRec:
    """One node, read out of its protobuf once."""

    index: int
    name: str
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: Mapping[str, AttributeProto]
    proto: NodeProto
    subgraphs: list[tuple[str, GraphView]] = field(default_factory=list)
    _values: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A name for messages: the node's name, or its type and position when unnamed."""
        return self.name or f"{self.op_type.lower()}_{self.index}"

    def attr(self, name: str, default: Any = None) -> Any:
        """Python value of attribute ``name`` (lists for repeated ones), or ``default``.

        A reference to a function's attribute (``ref_attr_name``) is meaningful only inside a
        function body, and functions are inlined before the analysis: one left in the graph
        (a model the checker never saw, given in memory) has no value, so it counts as absent.
        """
        if name in self._values:
            return self._values[name]
        a = self.attributes.get(name)
        if a is None or a.ref_attr_name:
            return default
        kind = a.type
        if kind == _INTS:  # the common kinds first, without the helper's chain of tests
            value = a.ints[:]
        elif kind == _INT:
            value = a.i
        elif kind == _FLOAT:
            value = a.f
        else:
            value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode("utf-8", "replace") for v in value]
        self._values[name] = value
        return value


@dataclass(eq=False)
class GraphView:
    """A graph (main or sub) with its nodes topologically sorted."""

    proto: GraphProto
    scope: str
    nodes: list[NodeRec]
    initializer_names: frozenset[str]
    #: names this graph reads from enclosing scopes (a control node's implicit inputs)
    outer_names: frozenset[str]

    def iter_nodes(self):
        """This graph's nodes and, after each control node, the nodes of its subgraphs."""
        for node in self.nodes:
            yield self, node
            for _, sub in node.subgraphs:
                yield from sub.iter_nodes()


def build_view(graph: GraphProto, source: str, scope: str = "") -> GraphView:
    """Read ``graph`` (recursively) into a :class:`GraphView`, sorting nodes if needed.

    A subgraph's view holds no link back to its parent: the views form a tree, without
    reference cycles, so an analysis is freed as soon as it ends.
    """
    view = GraphView(graph, scope, [], frozenset(i.name for i in graph.initializer[:]), frozenset())
    records: list[NodeRec] = []
    for index, node in enumerate(graph.node[:]):
        domain = node.domain
        present = node.attribute[:]
        has_graph = False
        if present:
            attributes: Mapping[str, AttributeProto] = {}
            for a in present:  # inline: most nodes have one or two attributes
                attributes[a.name] = a  # type: ignore[index]
                if not has_graph:
                    has_graph = a.type in _GRAPH_KINDS
        else:
            attributes = _NO_ATTRIBUTES
        rec = NodeRec(
            index,
            node.name,
            node.op_type,
            "" if domain in DEFAULT_DOMAINS else domain,
            tuple(node.input[:]),
            tuple(node.output[:]),
            attributes,
            node,
            [],
            {},
        )
        records.append(rec)
        if not has_graph:
            continue
        for attr in attributes.values():
            kind = attr.type
            if kind == _GRAPH:
                subs = [(attr.name, attr.g)]
            elif kind == _GRAPHS:
                subs = [(f"{attr.name}_{i}", g) for i, g in enumerate(attr.graphs)]
            else:
                continue
            for sub_name, sub in subs:
                sub_scope = (
                    f"{scope}/{rec.label}/{sub_name}" if scope else f"{rec.label}/{sub_name}"
                )
                rec.subgraphs.append((sub_name, build_view(sub, source, sub_scope)))

    defined = {i.name for i in graph.input} | set(view.initializer_names)
    produced: dict[str, int] = {}
    for rec in records:
        for out in rec.outputs:
            if out:
                produced[out] = rec.index
    # One pass over the inputs, name by name (no set per node: most graphs are small and
    # sorted): the names read from enclosing scopes, and whether every input produced in
    # this graph comes from an earlier node (the common case, which needs no sort).
    outer: set[str] = set()
    in_order = True
    seen: set[str] = set()
    for rec in records:
        names = rec.inputs
        if rec.subgraphs:  # what a control node's bodies read from outside counts as read
            names = (*names, *(n for _, sub in rec.subgraphs for n in sub.outer_names))
        for name in names:
            if name in produced:
                if in_order and name not in seen:
                    in_order = False
            elif name and name not in defined:
                outer.add(name)
        if in_order:
            seen.update(rec.outputs)
    view.outer_names = frozenset(outer)
    if in_order:
        view.nodes = records
    else:
        deps = [_needed(rec) for rec in records]
        view.nodes = _toposort(records, deps, produced, source, scope)
    return view


def _needed(rec: NodeRec) -> set[str]:
    """Names a node reads: its inputs and what its subgraphs read from outside."""
    needed = set(rec.inputs)
    needed.discard("")  # an omitted optional input
    for _, sub in rec.subgraphs:
        needed |= sub.outer_names
    return needed


def _toposort(
    records: list[NodeRec], deps: list[set[str]], produced: dict[str, int], source: str, scope: str
) -> list[NodeRec]:
    """Nodes in an order where every producer precedes its consumers.

    ONNX requires graphs to be sorted already (the checker enforces it): :func:`build_view`
    checks that in its pass over the inputs, and only unsorted graphs (``check=False`` or
    in-memory protos) come here, to Kahn's algorithm, which keeps the file order among
    independent nodes.
    """
    waiting = [0] * len(records)
    consumers: dict[int, list[int]] = {}
    for i, needed in enumerate(deps):
        producers = {produced[n] for n in needed if n in produced}
        producers.discard(i)
        waiting[i] = len(producers)
        for p in producers:
            consumers.setdefault(p, []).append(i)
    ready = deque(i for i, w in enumerate(waiting) if w == 0)
    order: list[NodeRec] = []
    while ready:
        i = ready.popleft()
        order.append(records[i])
        for c in consumers.get(i, ()):
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    if len(order) != len(records):
        stuck = next(records[i] for i, w in enumerate(waiting) if w > 0)
        where = f" in subgraph '{scope}'" if scope else ""
        raise ModelError(
            source,
            f"graph{where} has a cycle through node '{stuck.label}' "
            f"({stuck.op_type}); expected a directed acyclic graph",
        )
    return order
