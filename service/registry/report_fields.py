"""Report-form fields by meaning (一次采集、多方利用): one normalised name per field, from the synonym
table policies/report_fields.csv, so that 常住人口 / 常住人口数 and 户数 / 家庭户数 are the same data.

`overlaps` tells a reviewer which fields a new form asks for that a listed form already collects, and
which form to take them from. Screening calls it; the policy engine may too.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from opencc import OpenCC

from service.core.settings import PROJECT_ROOT

TABLE_FILE = PROJECT_ROOT / "policies" / "report_fields.csv"
_T2S = OpenCC("t2s")
_BRACKETED = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")  # a unit or a note: 常住人口（人）
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
# endings that say "how many" in several ways: 党员人数 / 党员数 / 党员数量 are one field
_COUNT_ENDING = re.compile(r"(?:个数|数量|人数|总数|数)$")


class FieldOverlap(msgspec.Struct, frozen=True):
    asked: str
    """the field as the new form names it"""
    listed: str
    """the field as the listed form names it"""
    field: str
    """the normalised name both mean"""


class FormOverlap(msgspec.Struct, frozen=True):
    """A listed form that already collects some of the fields asked for."""

    scope: str
    code: str
    title: str
    department: str | None
    fields: list[FieldOverlap]


def clean(name: str) -> str:
    text = _T2S.convert(unicodedata.normalize("NFKC", name)).lower()
    return _NOT_WORD.sub("", _BRACKETED.sub("", text))


@cache
def synonyms(path: Path = TABLE_FILE) -> dict[str, str]:
    """The table: a field's cleaned name -> its normalised name."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return {clean(r["field"]): r["normalised"].strip() for r in csv.DictReader(io.StringIO("\n".join(lines)))}


def normalised(name: str, table: dict[str, str] | None = None) -> str:
    """The field's normalised name: from the table, else from the table without a counting ending,
    else the cleaned name without it (two forms both asking 楼层数量 / 楼层数 still meet)."""
    table = synonyms() if table is None else table
    cleaned = clean(name)
    if cleaned in table:
        return table[cleaned]
    bare = _COUNT_ENDING.sub("", cleaned)
    if len(bare) < 2:
        return cleaned
    for ending in ("数", "人数", "数量"):
        if bare + ending in table:
            return table[bare + ending]
    return table.get(bare, bare)


def overlaps(asked: Iterable[str], listed_forms: Sequence[Any],
             table: dict[str, str] | None = None) -> list[FormOverlap]:
    """For each listed form (ListedItem-like: scope, code, title, department, item['report_fields']),
    the asked fields it already collects, by meaning; forms with none are left out."""
    table = synonyms() if table is None else table
    wanted: dict[str, list[str]] = {}
    for name in asked:
        wanted.setdefault(normalised(name, table), []).append(name)
    out = []
    for form in listed_forms:
        found = []
        for listed in form.item.get("report_fields") or []:
            key = normalised(listed, table)
            found += [FieldOverlap(asked=a, listed=listed, field=key) for a in wanted.get(key, [])]
        if found:
            out.append(FormOverlap(scope=form.scope, code=form.code, title=form.title,
                                   department=getattr(form, "department", None), fields=found))
    return out
