"""No module of the package over 400 lines and no function over 60, so each stays readable."""

from tests.code_size import MAX_FUNCTION_LINES, MAX_MODULE_LINES, oversized, sources


def test_no_module_or_function_is_over_its_size():
    assert oversized() == [], f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function"


def test_the_size_check_reads_every_module_of_the_package():
    names = {path.name for path in sources()}
    assert {"engine.py", "app.py", "build.py", "structured.py"} <= names
    assert len(sources()) > 50
