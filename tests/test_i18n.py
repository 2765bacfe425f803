"""The dashboard's texts: both languages for every key, the same placeholders in both."""

from __future__ import annotations

import string

import pytest

from dashboard import i18n
from grid_model.models import Category, Outcome, Source, Status
from grid_model.scope import ROLES


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("key", sorted(i18n.LABELS))
def test_every_text_in_both_languages_with_same_placeholders(key):
    entry = i18n.LABELS[key]
    # keys are identifiers, except the dispute types: their stored code is the Chinese name
    assert key.isascii() or key.startswith("dispute_type.")
    assert entry.get("zh") and entry.get("en")
    assert _fields(entry["zh"]) == _fields(entry["en"])


def test_every_enum_value_has_a_label():
    for kind, values in (
        ("category", Category),
        ("status", Status),
        ("outcome", Outcome),
        ("source", Source),
        ("role", ROLES),
    ):
        for v in values:
            value = getattr(v, "value", v)
            assert f"{kind}.{value}" in i18n.LABELS, f"{kind}.{value}"


def test_text_and_label():
    assert i18n.text("kpi_closure_rate") == "结案率"
    assert i18n.text("kpi_closure_rate", "en") == "Closure rate"
    assert i18n.text("card_title", "en", name="A", code="1") == "Grid card: A (1)"
    # domain messages of grid_model.messages are reachable too
    assert i18n.text("kind_needs", "en") == "needs"
    assert i18n.label("category", "mediation") == "人民调解"
    assert i18n.label("category", "unknown-from-a-file") == "unknown-from-a-file"
    with pytest.raises(KeyError, match="no_such_key"):
        i18n.text("no_such_key")


def test_every_dispute_type_has_an_english_name():
    from grid_model.needs.validate import dispute_types

    for zh in dispute_types():
        assert i18n.label("dispute_type", zh, "zh") == zh
        english = i18n.label("dispute_type", zh, "en")
        assert english != zh and english.isascii() and english.endswith("dispute"), zh
