"""Every public function of the package documents its parameters and its result (numpydoc)."""

import importlib
import inspect
import pkgutil

import pytest

import analysis


def public_functions():
    for module_info in pkgutil.walk_packages(analysis.__path__, prefix="analysis."):
        if any(part.startswith("_") for part in module_info.name.split(".")):
            continue
        module = importlib.import_module(module_info.name)
        for name, obj in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module.__name__:
                yield f"{module_info.name.removeprefix('analysis.')}.{name}", obj


@pytest.mark.parametrize(("name", "function"), list(public_functions()))
def test_numpydoc_sections(name, function):
    doc = inspect.getdoc(function) or ""
    signature = inspect.signature(function)
    if signature.parameters:
        assert "Parameters\n----------\n" in doc, name
        for parameter in signature.parameters:
            assert parameter in doc.split("Parameters\n----------\n", 1)[1], f"{name}: {parameter}"
    if signature.return_annotation not in (None, "None", inspect.Signature.empty):
        assert "Returns\n-------\n" in doc or "Yields\n------\n" in doc, name
