"""The domain does not depend on its audiences: appointments/ never imports the customer or technician pages."""

import ast

from tests.conftest import ROOT

AUDIENCES = ("selfservice", "technicians")


def imported_modules(path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_appointments_imports_neither_the_customer_nor_the_technician_pages():
    sources = sorted((ROOT / "appointments").rglob("*.py"))
    assert sources, "appointments/ has no Python files: did it move?"

    offending = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources
        for module in imported_modules(path)
        if module.split(".")[0] in AUDIENCES
    }

    assert offending == set()


def test_the_check_sees_an_import_of_an_audience(tmp_path):
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from selfservice.views import page\n\nimport technicians.urls\n")

    assert imported_modules(source) == {"selfservice.views", "technicians.urls"}
