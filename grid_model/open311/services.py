"""The Open311 services: one per need category, with the attributes a request may carry.

Names come in Chinese and English (:mod:`grid_model.messages`, keys ``o311.service.*``).
Attribute values are checked by the needs validator when the request is recorded; here only
which attributes exist.
"""

from __future__ import annotations

from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.messages import t
from grid_model.models import Category, Source
from grid_model.needs.validate import dispute_types

SERVICE_CODES: tuple[str, ...] = tuple(c.value for c in Category)
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
#: attribute code → (datatype, required, applies to categories: None = all)
ATTRIBUTES: dict[str, tuple[str, bool, frozenset[str] | None]] = {
    "source": ("singlevaluelist", True, None),
    "dispute_type": ("singlevaluelist", False, frozenset({"mediation"})),
    "under_correction": ("singlevaluelist", False, None),
    "reported_at": ("datetime", False, None),
}


def services(lang: str = "zh") -> list[dict]:
    """GeoReport ``services``: every category as a service with attributes."""
    return [
        {
            "service_code": code,
            "service_name": t(f"o311.service.{code}", lang),
            "description": t(f"o311.service_desc.{code}", lang),
            "metadata": True,
            "type": "realtime",
            "keywords": code.replace("_", " "),
            "group": t("o311.group", lang),
        }
        for code in SERVICE_CODES
    ]


def check_service(code: str | None, lang: str = "zh") -> str:
    """``code`` when it is a service, else InvalidInputError naming ``service_code``."""
    if code not in SERVICE_CODES:
        raise InvalidInputError(
            t("invalid_field", lang, field="service_code", value=code or "",
              expected=t("expected_one_of", lang, choices=", ".join(SERVICE_CODES)))
        )  # fmt: skip
    return code


def _values(code: str, lang: str) -> list[dict]:
    if code == "source":
        return [{"key": s.value, "name": t(f"o311.source.{s.value}", lang)} for s in Source]
    if code == "dispute_type":
        return [{"key": d, "name": d} for d in dispute_types()]
    if code == "under_correction":
        return [{"key": "0", "name": t("o311.no", lang)}, {"key": "1", "name": t("o311.yes", lang)}]
    return []


def definition(code: str, lang: str = "zh") -> dict:
    """GeoReport ``service definition``: the attributes of service ``code``; NotFoundError
    for a code that is no service."""
    if code not in SERVICE_CODES:
        raise NotFoundError(t("o311.no_service", lang, code=code))
    attributes = []
    for order, (name, (datatype, required, only)) in enumerate(ATTRIBUTES.items(), start=1):
        if only is not None and code not in only:
            continue
        entry = {
            "variable": True,
            "code": name,
            "datatype": datatype,
            "required": required,
            "datatype_description": t(f"o311.attr_type.{name}", lang),
            "order": order,
            "description": t(f"o311.attr.{name}", lang),
        }
        values = _values(name, lang)
        if values:
            entry["values"] = values
        attributes.append(entry)
    return {"service_code": code, "attributes": attributes}


def check_attributes(code: str, given: dict[str, str], lang: str = "zh") -> dict[str, str]:
    """``given`` when each attribute exists for service ``code`` and the required ones are
    there; else InvalidInputError naming every ``attribute[name]`` at fault."""
    problems = []
    for name in sorted(given):
        spec = ATTRIBUTES.get(name)
        if spec is None or (spec[2] is not None and code not in spec[2]):
            choices = ", ".join(a["code"] for a in definition(code, lang)["attributes"])
            problems.append((f"attribute[{name}]", given[name],
                             t("expected_one_of", lang, choices=choices)))  # fmt: skip
    for name, (_, required, only) in ATTRIBUTES.items():
        if required and (only is None or code in only) and not (given.get(name) or "").strip():
            problems.append((f"attribute[{name}]", "", t("expected_required", lang)))
    if problems:
        lines = [t("invalid_field", lang, field=f, value=v, expected=e) for f, v, e in problems]
        exc = InvalidInputError("; ".join(lines))
        exc.fields = tuple((f, line) for (f, _, _), line in zip(problems, lines, strict=True))
        raise exc
    return given


__all__ = ["ATTRIBUTES", "COORD_SYSTEMS", "SERVICE_CODES", "check_attributes", "check_service",
           "definition", "services"]  # fmt: skip
