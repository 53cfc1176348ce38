"""Sphinx extension: the page of published numbers, written at build time, and links to it from the chapters.

``chapters/published_numbers.md`` holds the page's fixed text and the line :data:`MARKER`. When Sphinx
reads that page, the marker is replaced by Markdown generated from three sources and nothing else:
every public constant of ``vaelib.published`` (a :class:`~vaelib.published.Published`, a dict of them,
or a supporting value such as an epoch count), the shipped records in ``vaelib/book/recorded/``, and
``vaelib.book.comparisons.COMPARISONS``, which says which recorded number answers which published one.
Each published number gets a labelled section (``published-burda-vae-ll``, ``published-kingma-m2-error-100``):
the paper's number and conditions, and beside it each recorded counterpart with its conditions (data,
binarization, estimator, epochs), the mode, hardware, date and commit of the record, whether the two
are comparable, and the difference.

A chapter *quotes* a published number when its source names it as ``published.NAME`` (code or text).
Every page that quotes one, or loads a record (``load_record("name")``), gets a short list at its end,
before the references: links to the rows of the numbers it quotes, and the mode, machine, date and
commit of each record it shows. The tests in ``tests/test_published_page.py`` check the page against
the chapters and the records without a build.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

PAGE = "chapters/published_numbers"  # the docname of the generated page
PAGE_LABEL = "published-numbers"
MARKER = "<!-- published numbers: generated at build time by _ext/published_numbers.py -->"
CITE_PREFIX = "published-"  # the page's bibliography key prefix (tools.chapters.citation_prefix)
_QUOTE = re.compile(r"\bpublished\.([A-Z][A-Z0-9_]*)\b")
_LOADS = re.compile(r"""load_record(?:_or_none)?\(\s*\\?["'](\w+)""")


def label(name: str) -> str:
    """The page's label for a constant "NAME" or a dict entry "NAME[key]": published-name[-key]."""
    return "published-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def source_text(path: Path) -> str:
    """The text a reader's page is made from: every cell of a notebook, or a Markdown file as it is."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text


def quoted_names(text: str) -> list[str]:
    """The constants of vaelib.published that ``text`` names as ``published.NAME``, in order of first use."""
    return list(dict.fromkeys(_QUOTE.findall(text)))


def records_used(text: str) -> list[str]:
    """The records ``text`` loads with ``load_record("name")`` or ``load_record_or_none("name")``."""
    return list(dict.fromkeys(_LOADS.findall(text)))


def constants(module) -> dict[str, object]:
    """The public constants (UPPER_CASE names) of ``module``, in its order."""
    return {name: value for name, value in vars(module).items() if name.isupper() and not name.startswith("_")}


def missing_from_page(names, page: str) -> list[str]:
    """The names among ``names`` whose label is not defined on the generated ``page`` (Markdown)."""
    return [name for name in names if f"({label(name)})=" not in page]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1_000 or float(value).is_integer() else f"{value:,.2f}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _record_facts(record: dict) -> dict[str, str]:
    run = record.get("run", {})
    return {
        "mode": f"{record.get('budget', '?')} budget",
        "hardware": record.get("hardware", "?"),
        "date": record.get("date", "?"),
        "commit": str(run.get("commit", "?"))[:10],
        "data": record.get("data", "?"),
    }


def _entry_section(name, entry, comparisons, records, quoted_in, heading="###") -> list[str]:
    from vaelib.book.comparisons import fill_conditions, record_value

    columns = [f"paper: {{cite:t}}`{CITE_PREFIX}{entry.cite}`"]
    rows = {
        "number": [f"{_number(entry.value)} {entry.unit}"],
        "quantity": [entry.what],
        "conditions": [entry.conditions],
        "where": [entry.where],
        "mode, hardware": ["as published"],
        "date, commit": ["as published"],
        "comparable": [""],
        "difference (book - paper)": [""],
    }
    for comparison in comparisons:
        record = records.get(comparison.record)
        columns.append(f"this book: record `{comparison.record}` ({{ref}}`{comparison.chapter}`)")
        if record is None:
            for key in rows:
                rows[key].append("(record not shipped)" if key == "number" else "")
            continue
        facts = _record_facts(record)
        try:
            value = record_value(record, comparison.path) * comparison.scale
            number, difference = f"{_number(value)} {entry.unit}", f"{value - entry.value:+,.2f} {entry.unit}"
        except KeyError as error:
            number, difference = f"(not in the record: {error.args[0]})", ""
        rows["number"].append(number)
        rows["quantity"].append(comparison.what)
        rows["conditions"].append(f"{facts['data']}: " + fill_conditions(comparison.conditions, record))
        rows["where"].append("`" + ".".join(str(k) for k in comparison.path) + "`")
        rows["mode, hardware"].append(f"{facts['mode']}, {facts['hardware']}")
        rows["date, commit"].append(f"{facts['date']}, `{facts['commit']}`")
        rows["comparable"].append(fill_conditions(comparison.comparable, record))
        rows["difference (book - paper)"].append(difference)
    if not comparisons:
        columns.append("this book")
        for key in rows:
            rows[key].append("no recorded counterpart" if key == "number" else "")
    lines = [f"({label(name)})=", f"{heading} `{name}`: {entry.what}", ""]
    if quoted_in:
        lines += ["Quoted in " + ", ".join(f"{{ref}}`{ch}`" for ch in quoted_in) + ".", ""]
    lines += ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {key} | " + " | ".join(_cell(v) for v in values) + " |" for key, values in rows.items()]
    return lines + [""]


def page_markdown(published_module, comparisons, records: dict, chapter_quotes: dict) -> str:
    """The generated part of the page: a summary table, then one section per published number.

    ``records`` maps record names to loaded records; ``chapter_quotes`` maps chapter labels to the
    constants each quotes. Every public constant of ``published_module`` gets a labelled section.
    """
    from vaelib.book.comparisons import published_entries, record_value

    entries = published_entries(published_module)
    by_entry = {}
    for comparison in comparisons:
        by_entry.setdefault(comparison.published, []).append(comparison)
    unknown = sorted(set(by_entry) - set(entries))
    if unknown:
        raise ValueError(f"vaelib.book.comparisons.COMPARISONS names published entries that do not exist: {unknown}")

    def quoted_in(name):
        return [ch for ch, names in chapter_quotes.items() if name.split("[")[0] in names]

    summary = ["## Every number at a glance", "", "| published number | paper | this book | record | comparable |"]
    summary.append("|---|---|---|---|---|")
    for name, entry in entries.items():
        for comparison in by_entry.get(name) or [None]:
            book, record_name, comparable = "", "", ""
            if comparison is not None and comparison.record in records:
                record = records[comparison.record]
                record_name, comparable = f"`{comparison.record}`", comparison.comparable.split(":")[0]
                try:
                    book = _number(record_value(record, comparison.path) * comparison.scale)
                except KeyError:
                    book = "(not in the record)"
            summary.append(
                f"| {{ref}}`{name} <{label(name)}>` | {_number(entry.value)} | {book} | {record_name} | {comparable} |"
            )
    shipped = ["## The records", "", "| record | chapter | mode | hardware | date | commit | wall time | data |"]
    shipped.append("|---|---|---|---|---|---|---|---|")
    for name, record in records.items():
        facts, run = _record_facts(record), record.get("run", {})
        minutes = f"{run['wall_seconds'] / 60:.0f} min" if isinstance(run.get("wall_seconds"), int | float) else "?"
        shipped.append(
            f"| `{name}` | {record.get('chapter', '?')} | {facts['mode']} | {facts['hardware']} | {facts['date']} | "
            f"`{facts['commit']}` | {minutes} | {facts['data']} |"
        )
    lines = [*summary, "", *shipped, "", "## Each number with its conditions", ""]
    done = set()
    for name, value in constants(published_module).items():
        if name in entries:
            lines += _entry_section(name, value, by_entry.get(name, []), records, quoted_in(name))
        elif isinstance(value, dict) and any(f"{name}[{key}]" in entries for key in value):
            lines += [f"({label(name)})=", f"### `{name}`", ""]
            for key in value:
                entry_id = f"{name}[{key}]"
                lines += _entry_section(entry_id, entries[entry_id], by_entry.get(entry_id, []), records,
                                        quoted_in(entry_id), heading="####")  # fmt: skip
        else:
            continue
        done.add(name)
    lines += ["## Supporting values", "", "Values that go with the numbers above (epoch counts, spreads, curves)."]
    lines += [""]
    for name, value in constants(published_module).items():
        if name not in done:
            chapters = quoted_in(name)
            where = (" Quoted in " + ", ".join(f"{{ref}}`{ch}`" for ch in chapters) + ".") if chapters else ""
            lines += [f"({label(name)})=", f"### `{name}`", "", f"`{value!r}`.{where}", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- Sphinx side


def _chapter_sources(srcdir: Path) -> dict[str, Path]:
    """docname -> source file of every page in chapters/ except the generated one."""
    found = {}
    for path in sorted((srcdir / "chapters").iterdir()):
        if path.suffix in (".ipynb", ".md") and f"chapters/{path.stem}" != PAGE:
            found[f"chapters/{path.stem}"] = path
    return found


def _chapter_label(path: Path) -> str | None:
    match = re.search(r"\((ch-[a-z0-9-]+|pitfalls|where-next)\)=", source_text(path))
    return match.group(1) if match else None


def _vaelib(srcdir: Path):
    if str(srcdir) not in sys.path:
        sys.path.insert(0, str(srcdir))  # the checkout's vaelib, as the chapters import it
    import vaelib
    from vaelib.book import comparisons, published

    return vaelib, published, comparisons


def _shipped_records(vaelib) -> dict:
    return {name: vaelib.load_record(name) for name in vaelib.record_names()}


def _fill_page(app, docname, source):
    if docname != PAGE or MARKER not in source[0]:
        return
    srcdir = Path(app.srcdir)
    vaelib, published, comparisons = _vaelib(srcdir)
    quotes = {}
    for path in _chapter_sources(srcdir).values():
        chapter = _chapter_label(path)
        if chapter:
            quotes[chapter] = quoted_names(source_text(path))
    page = page_markdown(published, comparisons.COMPARISONS, _shipped_records(vaelib), quotes)
    source[0] = source[0].replace(MARKER, page)


def _link(text: str, target: str, docname: str):
    from docutils import nodes
    from sphinx import addnodes

    ref = addnodes.pending_xref(
        "", refdomain="std", reftype="ref", reftarget=target, refexplicit=True, refwarn=True, refdoc=docname
    )
    ref += nodes.inline("", text)
    return ref


def _add_links(app, doctree):
    from docutils import nodes

    docname = app.env.docname
    path = _chapter_sources(Path(app.srcdir)).get(docname)
    if path is None:
        return
    text = source_text(path)
    names, loaded = quoted_names(text), records_used(text)
    if not names and not loaded:
        return
    vaelib, published, comparisons = _vaelib(Path(app.srcdir))
    entries = comparisons.published_entries(published)
    items = nodes.bullet_list()
    if names:
        para = nodes.paragraph("", "Published numbers quoted here, each beside the book's on ")
        para += _link("the page of published numbers", PAGE_LABEL, docname)
        para += nodes.Text(": ")
        targets = [t for name in names for t in ([k for k in entries if k.startswith(name + "[")] or [name])]
        for i, target in enumerate(targets):
            para += nodes.Text(", " if i else "")
            para += _link(target, label(target), docname)
        para += nodes.Text(".")
        items += nodes.list_item("", para)
    for name in loaded:
        try:
            facts = _record_facts(vaelib.load_record(name))
        except vaelib.RecordError:
            continue
        line = (
            f"Recorded run {name} (vaelib/book/recorded/{name}.json): {facts['mode']} on {facts['hardware']}, "
            f"{facts['date']}, commit {facts['commit']}, {facts['data']}. This page's other numbers come from its "
            "own run, in the mode its setup cell prints."
        )
        items += nodes.list_item("", nodes.paragraph("", line))
    box = [nodes.rubric("", "Where this page's numbers come from"), items]
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    references = [s for s in top.children if isinstance(s, nodes.section) and s[0].astext() == "References"]
    where = top.index(references[0]) if references else len(top.children)
    top[where:where] = box


def setup(app):
    app.connect("source-read", _fill_page)
    app.connect("doctree-read", _add_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
