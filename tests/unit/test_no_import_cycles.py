"""No two modules of cs import each other, directly or round a ring: a ring
means neither can be read, tested or imported lazily without the other.
(import-linter's layer contracts in pyproject.toml keep the packages that
had rings in order; this catches a ring anywhere.)"""

from __future__ import annotations

import grimp


def _rings(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's,
    iterative: the package is deep enough to hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    rings: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                ring = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    ring.append(member)
                    if member == node:
                        break
                if len(ring) > 1:
                    rings.append(sorted(ring))
    return rings


def test_the_ring_finder_finds_a_ring():
    class Graph:
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges.get(module, set())

    assert _rings(Graph()) == [["a", "b", "c"]]


def test_no_module_of_cs_imports_itself_round_a_ring():
    # Imports for type checkers only (under TYPE_CHECKING) never run: the
    # screens type `self.app` as the board app that imports them.
    graph = grimp.build_graph("cs_cli", include_external_packages=False, exclude_type_checking_imports=True)
    assert _rings(graph) == []
