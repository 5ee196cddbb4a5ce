"""A report cut off in transfer is a parse error, not a docket with fewer entries."""
from __future__ import annotations

from pathlib import Path

import pytest

import parsers
from tests.conftest import SHARED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pacer"


@pytest.mark.parametrize("kind,name", [("district", "cand_364733.html"),
                                       ("appellate", "ca9_20-16908.html")])
def test_a_report_cut_short_is_refused(kind, name):
    text = (FIXTURES / name).read_text()
    whole = parsers.parse(kind, text)
    assert whole["docket_entries"]
    # the end of the entries: PACER's receipt (district) or the end of the page
    receipt = text.find("Transaction Receipt")
    end = receipt if receipt > 0 else text.upper().rindex("</BODY")
    for fraction in (0.3, 0.6, 0.85):
        cut = text[:int(end * fraction)]
        with pytest.raises(parsers.ParseError, match="cut short"):
            parsers.parse(kind, cut)
    if receipt > 0:  # cut inside the receipt, after every entry: nothing is missing
        assert parsers.parse(kind, text[:receipt + 40])["docket_entries"] == whole["docket_entries"]


def test_every_whole_corpus_docket_has_its_closing_marks():
    folders = [SHARED / "corpus" / "pacer" / d for d in ("district", "bankruptcy", "appellate")]
    pages = [p for folder in folders if folder.exists() for p in sorted(folder.glob("*.html"))]
    if not pages:
        pytest.skip("../shared not found: the corpus dockets live there")
    for page in pages:
        kind = "appellate" if page.parent.name == "appellate" else "district"
        try:
            parsers.parse(kind, page.read_bytes())
        except parsers.ParseError as exc:
            assert "cut short" not in str(exc), page
