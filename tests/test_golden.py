"""Our parsers' whole output on every corpus page equals tests/golden/ (see tests/golden.py).

A change that moves any output fails here with the diff; when the change is
meant, `python -m tests.golden --update` writes the files again and the diff
goes into review with the code.
"""
from __future__ import annotations

import pytest

from tests import golden


def _params():
    if not golden.corpus().is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason=f"{golden.corpus()} not found: the corpus lives beside the checkout"))]
    return [pytest.param(folder, page, id=f"{folder}/{page.name}")
            for folder in golden.FOLDERS for page in golden.pages(folder)]


@pytest.mark.parametrize("folder,page", _params())
def test_output_equals_the_golden_file(folder, page):
    diff = golden.difference(folder, page)
    assert diff is None, f"our output for {folder}/{page.name} moved " \
                         f"(python -m tests.golden --update if meant):\n{diff}"


def test_every_golden_file_has_its_page():
    if not golden.corpus().is_dir():
        pytest.skip(f"{golden.corpus()} not found")
    for folder in golden.FOLDERS:
        pages = {golden.golden_path(folder, p) for p in golden.pages(folder)}
        kept = set((golden.ROOT / folder).glob("*.json"))
        assert kept == pages, f"{folder}: golden files without a page: {sorted(kept - pages)}; " \
                              f"pages without one: {sorted(pages - kept)}"
