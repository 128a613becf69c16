"""The house rules, checked: no import loop, a model that depends on nothing above it, Qt and
napari only at the edges, and each rule in one home."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "napari_lightmic"
EDGES = ("_napari", "widgets")  # where Qt and napari may be imported


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, ast.AST]]:
    """Every module `name` imports, wherever the import stands (in functions and
    TYPE_CHECKING blocks too), with the statement."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else target, node))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node) for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {t for t, _ in _imports(name) if t in MODULES and t != name}
            for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_loop_counting_every_import():
    assert _cycles(_graph()) == []


def test_the_model_depends_on_nothing_above_it():
    above = ("napari_lightmic.metadata", "napari_lightmic.reading", "napari_lightmic.writing",
             "napari_lightmic.session", "napari_lightmic._napari", "napari_lightmic.widgets")
    imported = [t for t, _ in _imports("napari_lightmic.model")]
    assert not [t for t in imported if t.startswith(above)], imported


def test_qt_and_napari_only_at_the_edges():
    gui = re.compile(r"^(napari|qtpy|PyQt\d|PySide\d|superqt|magicgui|vispy)(\.|$)")
    wrong = []
    for name in MODULES:
        inside = name.split(".")[1] if "." in name else ""
        if inside in EDGES:
            continue
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        view = [range(f.lineno, f.end_lineno + 1) for f in ast.walk(tree)
                if isinstance(f, ast.FunctionDef) and name == "napari_lightmic.cli"
                and f.name == "_view"]  # `lightmic view` starts napari
        for target, node in _imports(name):
            if gui.match(target) and not any(node.lineno in lines for lines in view):
                wrong.append(f"{name}: {target}")
    assert wrong == []


def test_one_home_for_each_rule():
    text = {name: path.read_text(encoding="utf-8") for name, path in MODULES.items()}
    joined = "\n".join(text.values())
    assert len(re.findall(r"^def is_remote\(", joined, re.M)) == 1
    # and no inline copy of what "remote" means
    assert [n for n, t in text.items() if '"://"' in t] == ["napari_lightmic.reading.remote"]
    bases = [m for m in re.findall(r"^class (\w+)\((\w*(?:Error|Exception))\)", joined, re.M)
             if m[1] in ("Exception", "ValueError", "OSError", "RuntimeError")]
    assert bases == [("LightmicError", "Exception")]
    for forbidden in ("__dict__.update", "opened_as", "deepcopy("):
        assert forbidden not in joined, forbidden
