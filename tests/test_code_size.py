"""The package's shape: modules and functions of a readable size, a README map that names every
module in its folder, and no import circle between modules."""

import ast
import re

from tests.code_size import MAX_FUNCTION_LINES, MAX_MODULE_LINES, ROOT, oversized, sources


def test_no_module_or_function_is_over_its_size():
    assert oversized() == [], f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function"


def test_the_size_check_reads_every_module_of_the_package():
    names = {path.name for path in sources()}
    assert {"engine.py", "app.py", "build.py", "structured.py"} <= names
    assert len(sources()) > 50


def _readme_map() -> dict[str, str]:
    """Each subpackage's entry in the README's project layout: its text, by folder name."""
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Project layout") :]
    layout = layout[layout.index("```") + 3 : layout.index("```", layout.index("```") + 3)]
    entries, current = {}, None
    for line in layout.splitlines():
        if match := re.match(r"^  (\w+)/\s", line):
            current = match.group(1)
            entries[current] = line[match.end() :]
        elif re.match(r"^ {3,}\S", line) and current:
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def test_the_readme_map_names_every_module_in_its_folder():
    entries = _readme_map()
    folders = sorted(p.name for p in (ROOT / "guide").iterdir() if (p / "__init__.py").is_file())
    assert sorted(entries) == folders
    for folder in folders:
        modules = {p.stem for p in (ROOT / "guide" / folder).glob("*.py")} - {"__init__", "__main__"}
        missing = {m for m in modules if not re.search(rf"\b{m}\b", entries[folder])}
        assert not missing, f"guide/{folder}/ modules missing from the README map: {sorted(missing)}"


def _module_imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports when it is imported (imports
    inside functions, which run later, are left out)."""
    graph = {}
    for path in sorted((ROOT / "guide").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        targets = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = targets
    return {name: {t for t in targets if t in graph and t != name} for name, targets in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_two_modules_import_each_other_even_through_others():
    graph = _module_imports()
    # A package importing its own modules is how it re-exports them; only module-to-module edges count.
    edges = {name: {t for t in targets if not t.startswith(name + ".")} for name, targets in graph.items()}
    assert _cycle(edges) is None, f"import circle: {' -> '.join(_cycle(edges))}"


def test_the_circle_check_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
