"""The project's modules import each other along one direction only (STYLE rule 13).

Every non-test, non-migration module is parsed with `ast`; every import, at any depth
(a function-level import counts as much as a top-level one), becomes an edge between
project modules. A cycle fails the test and is printed.
"""
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {"tests", "migrations", ".venv", "node_modules", "static", "templates", "docs", "var"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.intersection(relative.parts[:-1]) or relative.name.startswith("test_") or relative.name == "conftest.py":
            continue
        if len(relative.parts) == 1:
            if relative.name == "manage.py":
                continue
            modules[relative.stem] = path
            continue
        if not (ROOT / relative.parts[0] / "__init__.py").exists():
            continue  # scripts (bench/, bin/), not packages
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict) -> str | None:
    """The longest project module that `name` (a dotted import target) names or lives in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            # `from pkg import mod` imports the submodule pkg.mod when there is one.
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
            names = [n for n in names[:-1] if n in modules] or [prefix]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target and target != module:
                targets.add(target)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each with one cycle through it."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, set(component)) for component in components]


def _one_cycle(graph, component: set) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first), for the message."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & component):
            if target == start:
                return paths[node] + [start]
            if target not in paths:
                paths[target] = paths[node] + [target]
                queue.append(target)
    return sorted(component)  # pragma: no cover - a component always holds a cycle


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "invoices.models" in graph["invoices.transitions.finalization"]  # from ..models import ...
    assert "core.money" in graph["invoices.totals"]
    assert len(graph) > 50


def test_no_import_cycle_between_modules():
    cycles = find_cycles(import_graph())
    message = "\n".join(" -> ".join(cycle) for cycle in cycles)
    print(message)
    assert not cycles, f"{len(cycles)} import cycle(s) between project modules:\n{message}"


def reachable(graph: dict[str, set[str]], module: str) -> set[str]:
    seen, stack = set(), [module]
    while stack:
        for target in graph[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def test_a_cycle_is_found_and_named():
    graph = {"a.x": {"a.y"}, "a.y": {"b.z"}, "b.z": {"a.x"}, "c": {"a.x"}}
    assert find_cycles(graph) == [["a.x", "a.y", "b.z", "a.x"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_ledgers_sit_below_invoices():
    graph = import_graph()
    for ledger in ("coupons.ledger", "credit_notes.ledger", "wallets.ledger"):
        assert not {m for m in reachable(graph, ledger) if m.startswith("invoices.")}, ledger


def test_the_database_helpers_import_no_app():
    assert reachable(import_graph(), "core.db") == set()


# STYLE rule 13, lowest layer first: a module imports from its own layer and the layers below, never above.
LAYERS = [
    ("kernel", {"core"}),
    ("infrastructure", {"audit", "sequences", "webhooks", "accounts"}),
    ("catalogue", {"customers", "plans", "addons"}),
    ("rating", {"usage", "subscriptions"}),
    ("ledgers", {"coupons", "credit_notes", "wallets"}),
    ("invoices", {"invoices"}),
    ("billing run", {"billing_run", "closing"}),
    ("upstream", {"upstream"}),  # upstream mode: mirrors Lago and finalizes through it; registers into invoices from apps.py
    ("doors", {"api", "demo", "billing_console"}),
]
# Modules of a ledger app that work on invoices, and so sit just above them (below the billing run).
ABOVE_INVOICES = {
    "credit_notes.services",  # a credit note is issued on a finalized invoice
    "credit_notes.serializers",  # its Lago JSON embeds the invoice's fees
    "credit_notes.pdf",  # renders the credit note with its invoice's fees (through credit_notes.serializers)
    "wallets.top_ups",  # a paid top-up is a credit invoice, finalized by the one transition
    "wallets.lifecycle",  # voiding credits and terminating a wallet go through wallets.top_ups
    "customers.taxes",  # a changed or deleted tax restates the drafts that carry it (invoices.drafts)
    "credit_notes.estimate",  # a credit note's amounts computed on a finalized invoice, nothing written
    "credit_notes.updates",  # a credit note's refund status and metadata
}
# Upward imports not yet designed away, each a known debt (README "Architecture"); nothing may join them.
KNOWN_UPWARD = {
    # Voiding with a credit note creates it through credit_notes.services, which reads invoices back.
    ("invoices.transitions.voiding", "credit_notes.services"),
}


def layer_of(module: str) -> float:
    parts = module.split(".")
    if "management" in parts or parts[-1] in ("admin", "apps") or (len(parts) > 1 and parts[1] == "admin"):
        # The admin and the commands are doors, and an AppConfig (apps.py) is where an app wires itself
        # into lower ones (webhook payload builders): both sit on top, whichever app holds them.
        return len(LAYERS) - 1
    if module in ABOVE_INVOICES:
        return [name for name, _ in LAYERS].index("invoices") + 0.5
    for index, (_, apps) in enumerate(LAYERS):
        if parts[0] in apps:
            return index
    raise AssertionError(f"{module} is in no layer: add its app to LAYERS")


def test_every_app_has_a_layer():
    for module in import_graph():
        layer_of(module)


def test_imports_never_point_up_a_layer():
    graph = import_graph()
    upward = sorted(
        f"{module} ({LAYERS[int(layer_of(module))][0]}) -> {target} ({LAYERS[int(layer_of(target))][0]})"
        for module, targets in graph.items() for target in targets
        if layer_of(target) > layer_of(module) and (module, target) not in KNOWN_UPWARD
    )
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)
    assert all(target in graph[module] for module, target in KNOWN_UPWARD), "a known upward import is gone: drop it"


def test_the_kernel_imports_no_app():
    graph = import_graph()
    kernel = [module for module in graph if module == "core" or module.startswith("core.")]
    assert len(kernel) >= 8
    for module in kernel:
        assert {m for m in reachable(graph, module) if m.split(".")[0] != "core"} == set(), module


def test_webhooks_import_no_invoice_or_credit_note_module():
    graph = import_graph()
    for module in [m for m in graph if m.split(".")[0] == "webhooks"]:
        assert not {m for m in reachable(graph, module) if m.split(".")[0] in ("invoices", "credit_notes", "customers")}, module


def test_the_layer_check_catches_an_upward_import():
    assert layer_of("coupons.ledger") < layer_of("invoices.models") < layer_of("billing_run.billing") < layer_of("api.views.invoices")
    assert layer_of("customers.admin") == layer_of("api.urls")  # the admin is a door
    assert layer_of("invoices.models") < layer_of("wallets.top_ups") < layer_of("billing_run.billing")
