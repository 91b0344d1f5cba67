"""The docs generator (docs/generate.py) as a module, and its sources read once per session."""

from __future__ import annotations

import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="session")
def generator():
    spec = importlib.util.spec_from_file_location("shipyard_docs_generate", os.path.join(REPO, "docs", "generate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sources(generator):
    """ansible-doc of every module and role, and the modules' argument specs (a few seconds)."""
    return generator.collect()


@pytest.fixture(scope="session")
def pages(generator, sources):
    return generator.render(sources)
