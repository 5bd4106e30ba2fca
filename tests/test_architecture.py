"""The shape of the house, read off the code with ``ast``: which module imports which.

- No import cycles among the project's modules (imports inside functions count: a cycle hidden in
  a function is still a cycle a reader has to hold in their head). Not counted: imports under
  ``if TYPE_CHECKING:`` (for type hints only, never run) and a package's ``__init__`` importing its
  own submodules to re-export them. The lazy imports allowed to close a cycle are listed in
  :data:`ALLOWED`, with their reason.
- No module imports another module's private name (``from x import _y``; gettext's ``_`` excepted).
- ``vae/`` never imports Streamlit; ``components/`` never imports ``pages/`` or ``frame/``; ``pages/``
  never imports ``frame/`` (the frame imports the pages); no page imports a page (a page is a file of
  ``pages/`` whose name does not start with ``_``).

Each rule has a test on a small synthetic tree too, so that the checker is seen to fail.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The project's own top-level packages and modules (what the graph is drawn between).
PROJECT = ("vae", "pages", "components", "frame", "app")
#: (importer, imported): imports that may close a cycle, and why.
ALLOWED: dict[tuple[str, str], str] = {
    ("vae.explore.knn", "vae.explore._knn_kernels"): "the search loads its compiled kernels only when first "
    "needed (numba compiles them: seconds); the kernels read the search's block size from it",
}


@dataclass
class Graph:
    """Modules (dotted names) and the project modules each imports, with what it imports from them."""

    edges: dict[str, set[str]] = field(default_factory=dict)
    names: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (importer, module) -> names


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files(root: Path, tops: tuple[str, ...] = PROJECT) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for top in tops:
        if (root / f"{top}.py").is_file():
            files[top] = root / f"{top}.py"
        for p in sorted((root / top).rglob("*.py")) if (root / top).is_dir() else []:
            files[module_name(p, root)] = p
    return files


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (imports for type hints only)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def import_graph(root: Path = ROOT, tops: tuple[str, ...] = PROJECT) -> Graph:
    """Every import statement of every project module that runs, anywhere in the file."""
    files = project_files(root, tops)
    graph = Graph()
    for name, path in files.items():
        graph.edges[name] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                targets = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                targets = []
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append((sub, None) if sub in files else (base, a.name))
            else:
                continue
            for target, imported in targets:
                if target.split(".")[0] not in tops:
                    graph.edges[name].add(target)  # third-party: kept for the layer rules
                    continue
                while target and target not in files:  # a name inside a module: the module
                    target = target.rpartition(".")[0]
                if not target or target == name or (is_package and target.startswith(name + ".")):
                    continue  # a package re-exporting its own submodules
                graph.edges[name].add(target)
                if imported:
                    graph.names.setdefault((name, target), set()).add(imported)
    return graph


def cycles(graph: Graph, allowed: dict[tuple[str, str], str] = ALLOWED) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    nodes = list(graph.edges)
    edges = {n: {m for m in graph.edges[n] if m in graph.edges and (n, m) not in allowed} for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(found)


def private_imports(graph: Graph) -> list[str]:
    """``importer: module._name`` for every private name imported from another module."""
    return sorted(f"{importer}: {module}.{n}" for (importer, module), names in graph.names.items()
                  for n in names if n.startswith("_") and n != "_" and not n.startswith("__"))


def is_page(module: str) -> bool:
    parts = module.split(".")
    return len(parts) == 2 and parts[0] == "pages" and not parts[1].startswith("_")


def layer_breaches(graph: Graph) -> list[str]:
    """``importer -> imported (rule)`` for every import across a layer the house forbids."""
    out = []
    for importer, targets in graph.edges.items():
        for t in sorted(targets):
            top = t.split(".")[0]
            if importer.split(".")[0] == "vae" and top == "streamlit":
                out.append(f"{importer} -> {t} (vae/ never imports Streamlit)")
            if importer.split(".")[0] == "components" and top in ("pages", "frame"):
                out.append(f"{importer} -> {t} (components/ never imports {top}/)")
            if importer.split(".")[0] == "pages" and top == "frame":
                out.append(f"{importer} -> {t} (pages/ never imports frame/)")
            if is_page(importer) and is_page(t):
                out.append(f"{importer} -> {t} (no page imports another page)")
    return out


# -- the project ----------------------------------------------------------------------------------
def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (each a group of modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_no_module_imports_another_modules_private_name():
    found = private_imports(import_graph())
    assert not found, "private names imported from another module:\n" + "\n".join(found)


def test_the_layers_hold():
    found = layer_breaches(import_graph())
    assert not found, "\n".join(found)


# -- the checker, on small synthetic trees ---------------------------------------------------------
def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    root = _tree(tmp_path, {
        "vae/__init__.py": "",
        "vae/config.py": "from .archs import ARCHS\n",
        "vae/archs.py": "def f():\n    from vae.config import ConfigError\n",
        "vae/model.py": "from . import config\n",
    })
    assert cycles(import_graph(root)) == [["vae.archs", "vae.config"]]
    assert cycles(import_graph(root), {("vae.archs", "vae.config"): "test"}) == []


def test_the_checker_finds_private_names_and_layer_breaches(tmp_path):
    root = _tree(tmp_path, {
        "vae/__init__.py": "",
        "vae/training/trainer.py": "from .distributed import _epoch_seed\n",
        "vae/training/distributed.py": "def f():\n    import streamlit as st\n",
        "pages/__init__.py": "",
        "pages/_i18n.py": "def _(s): return s\n",
        "pages/map.py": "from pages._i18n import _\nfrom pages import sliders\n",
        "pages/sliders.py": "",
        "components/__init__.py": "",
        "components/big_map/__init__.py": "from pages._i18n import _\n",
        "frame/__init__.py": "",
        "frame/navigation.py": "from pages import map\n",
        "pages/_tour.py": "from frame.navigation import frame\n",
    })
    g = import_graph(root)
    assert private_imports(g) == ["vae.training.trainer: vae.training.distributed._epoch_seed"]
    assert sorted(layer_breaches(g)) == sorted([
        "vae.training.distributed -> streamlit (vae/ never imports Streamlit)",
        "components.big_map -> pages._i18n (components/ never imports pages/)",
        "pages.map -> pages.sliders (no page imports another page)",
        "pages._tour -> frame.navigation (pages/ never imports frame/)",
    ])
