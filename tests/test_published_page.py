"""The page of published numbers (_ext/published_numbers.py), checked against the chapters and the records."""

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import vaelib
from vaelib.book import comparisons, published
from vaelib.book.published import Published

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import published_numbers as pages  # noqa: E402

SOURCES = pages._chapter_sources(ROOT)


def chapter_quotes() -> dict[str, list[str]]:
    quotes = {}
    for path in SOURCES.values():
        chapter = pages._chapter_label(path)
        if chapter:
            quotes[chapter] = pages.quoted_names(pages.source_text(path))
    return quotes


@pytest.fixture(scope="module")
def page() -> str:
    records = {name: vaelib.load_record(name) for name in vaelib.record_names()}
    return pages.page_markdown(published, comparisons.COMPARISONS, records, chapter_quotes())


def entry_section(page: str, entry_id: str) -> str:
    """The Markdown of one entry's section: from its label to the next label."""
    start = page.index(f"({pages.label(entry_id)})=")
    end = page.find("\n(published-", start + 1)
    return page[start : end if end > 0 else len(page)]


def table_row(section: str, name: str) -> list[str]:
    """The cells after the first of the table row whose first cell is ``name`` ("" for the header)."""
    start = f"| {name} |" if name else "| | "
    row = next(line for line in section.splitlines() if line.startswith(start))
    return [cell.strip() for cell in row.strip("|").split(" | ")][1:]


def test_every_published_number_a_chapter_quotes_is_on_the_page(page):
    quoted = sorted({name for names in chapter_quotes().values() for name in names})
    assert quoted, "the chapters quote published numbers as published.NAME"
    unknown = [name for name in quoted if not hasattr(published, name)]
    assert not unknown, f"chapters quote names that vaelib.published does not have: {unknown}"
    assert not pages.missing_from_page(quoted, page), "a quoted number has no row on the page"
    for name in quoted:  # a dict of numbers: every entry has its own row too
        value = getattr(published, name)
        if isinstance(value, dict) and all(isinstance(v, Published) for v in value.values()):
            assert not pages.missing_from_page([f"{name}[{key}]" for key in value], page)


def test_a_quoted_number_missing_from_the_page_is_caught(page):
    assert pages.missing_from_page(["NOT_A_NUMBER"], page) == ["NOT_A_NUMBER"]
    text = "x = published.BURDA_VAE_LL.value  # and in prose: `published.KINGMA_M2_ERROR`, published.lower"
    assert pages.quoted_names(text) == ["BURDA_VAE_LL", "KINGMA_M2_ERROR"]
    cut = page.replace(f"({pages.label('BURDA_VAE_LL')})=", "")
    assert pages.missing_from_page(["BURDA_VAE_LL"], cut) == ["BURDA_VAE_LL"]


def test_the_page_is_generic_over_what_published_holds():
    extra = SimpleNamespace(
        NEW_NUMBER=Published(1.5, "nats", "a new figure", "some conditions", "somekey", "Table 9"),
        NEW_TABLE={"a": Published(2.0, "%", "row a", "c", "k", "T1"), 7: Published(3.0, "%", "row 7", "c", "k", "T1")},
        NEW_EPOCHS=40,
        helper=lambda: None,
    )
    page = pages.page_markdown(extra, (), {}, {"ch-x": ["NEW_NUMBER", "NEW_EPOCHS"]})
    for name in ("NEW_NUMBER", "NEW_TABLE", "NEW_TABLE[a]", "NEW_TABLE[7]", "NEW_EPOCHS"):
        assert f"({pages.label(name)})=" in page, name
    assert "no recorded counterpart" in entry_section(page, "NEW_NUMBER")
    assert "Quoted in {ref}`ch-x`" in entry_section(page, "NEW_NUMBER") and "helper" not in page
    bad = comparisons.Comparison("NO_SUCH", "r", ("x",), "w", "c", "no", "ch-x")
    with pytest.raises(ValueError, match="NO_SUCH"):
        pages.page_markdown(extra, (bad,), {}, {})


def recorded_number(comparison) -> float:
    """The comparison's number read from the record's JSON file here, without vaelib.load_record."""
    node = json.loads((ROOT / "vaelib" / "book" / "recorded" / f"{comparison.record}.json").read_text())
    for key in comparison.path:
        if isinstance(key, dict):
            ((field, wanted),) = key.items()
            node = next(item for item in node if item[field] == wanted)
        else:
            node = node[key]
    return node * comparison.scale


def test_every_recorded_number_on_the_page_is_the_record_s(page):
    for comparison in comparisons.COMPARISONS:
        section = entry_section(page, comparison.published)
        columns = table_row(section, "")  # the header: the paper, then one column per record
        column = next(i for i, c in enumerate(columns) if f"record `{comparison.record}`" in c)
        shown = table_row(section, "number")[column]
        value = float(re.match(r"[-+]?[\d,]*\.?\d+", shown).group().replace(",", ""))
        expected = recorded_number(comparison)
        assert value == pytest.approx(expected, abs=0.005 if abs(expected) < 1_000 else 0.5), (comparison, shown)
        record = json.loads((ROOT / "vaelib" / "book" / "recorded" / f"{comparison.record}.json").read_text())
        assert record["hardware"] in table_row(section, "mode, hardware")[column]
        assert record["run"]["commit"][:10] in table_row(section, "date, commit")[column]
        difference = float(table_row(section, "difference (book - paper)")[column].split()[0].replace(",", ""))
        paper = comparisons.published_entries()[comparison.published]
        assert difference == pytest.approx(expected - paper.value, abs=0.006)


def test_every_shipped_record_is_listed_with_its_mode_and_machine(page):
    records_table = page[page.index("## The records") : page.index("## Each number")]
    for name in vaelib.record_names():
        record = json.loads((ROOT / "vaelib" / "book" / "recorded" / f"{name}.json").read_text())
        row = next(line for line in records_table.splitlines() if line.startswith(f"| `{name}` |"))
        assert record["hardware"] in row and record["date"] in row and record["run"]["commit"][:10] in row, row
        assert f"{record['budget']} budget" in row


def test_a_page_number_that_differs_from_the_record_is_caught(page):
    comparison = comparisons.COMPARISONS[0]
    section = entry_section(page, comparison.published)
    shown = table_row(section, "number")[1]
    tampered = page.replace(f"| number | {table_row(section, 'number')[0]} | {shown}", "| number | x | -1.00 nats")
    with pytest.raises(AssertionError):
        test_every_recorded_number_on_the_page_is_the_record_s(tampered)


def test_every_comparison_points_at_a_number_in_its_shipped_record():
    """When a chapter's record is made again with other entries, the mapping in vaelib.comparisons must follow."""
    for comparison in comparisons.COMPARISONS:
        record = vaelib.load_record(comparison.record)
        assert isinstance(comparisons.record_value(record, comparison.path), float), comparison
        filled = comparisons.fill_conditions(comparison.conditions + comparison.comparable, record)
        assert "not in the record" not in filled, (comparison.published, filled)
        assert comparison.comparable.split(":")[0] in ("yes", "roughly", "no"), comparison.comparable


def test_record_values_and_conditions_say_what_is_missing():
    record = {"settings": {"epochs": 3}, "results": {"sweep": [{"labels": 100, "error": 0.25}], "x": "text"}}
    assert comparisons.record_value(record, ("results", "sweep", {"labels": 100}, "error")) == 0.25
    with pytest.raises(KeyError, match="no item with labels = 600"):
        comparisons.record_value(record, ("results", "sweep", {"labels": 600}, "error"))
    with pytest.raises(KeyError, match="nothing at"):
        comparisons.record_value(record, ("results", "table"))
    with pytest.raises(KeyError, match="not a number"):
        comparisons.record_value(record, ("results", "x"))
    assert comparisons.fill_conditions("{settings[epochs]} epochs, K = {settings[k]}", record) == (
        "3 epochs, K = (not in the record: settings[k])"
    )


def test_pages_that_quote_a_number_or_show_a_record_get_links():
    text = pages.source_text(ROOT / "chapters" / "06_evaluation.ipynb")
    assert "BURDA_VAE_LL" in pages.quoted_names(text)
    assert pages.records_used(text) == ["evaluation_full"]
    assert pages.records_used('RECORDED = vaelib.load_record_or_none("priors_full", like=RECORD)') == ["priors_full"]
    for chapter in ("06_evaluation", "07_tighter_bounds", "08_labels", "09_priors"):
        assert pages.records_used(pages.source_text(ROOT / "chapters" / f"{chapter}.ipynb")), chapter


def test_the_page_is_in_the_toc_and_has_its_marker():
    text = (ROOT / "chapters" / "published_numbers.md").read_text()
    assert pages.MARKER in text and f"({pages.PAGE_LABEL})=" in text
    assert f"file: {pages.PAGE}" in (ROOT / "_toc.yml").read_text()
    assert "published_numbers: _ext/" in (ROOT / "_config.yml").read_text()
