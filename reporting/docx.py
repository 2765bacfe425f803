"""The mediation agreement (调解协议书) as DOCX, from the template shipped in
``reporting/templates/agreement.docx`` (built by ``make_agreement_template.py`` beside it).

docxtpl fills the Jinja2 tags with ``autoescape=True``: a party's name holding ``<w:t>`` or
``&`` is text in the document, not XML.
"""

from __future__ import annotations

import dataclasses
import io
from importlib import resources

from grid_model.reports.agreement import AgreementCase

#: Blank lines where the agreement has no stored text (terms, performance).
BLANK = "________________________________________________"
COPIES = "三"


def agreement_context(case: AgreementCase) -> dict:
    """The template's fields: the case's, with blanks where nothing is stored."""
    values = dataclasses.asdict(case)
    values["parties"] = [
        {k: (v if v else "________") for k, v in party.items()} for party in values["parties"]
    ]
    values["mediators"] = "、".join(case.mediators)
    values["dispute_type"] = case.dispute_type or "________"
    values["facts"] = case.facts or BLANK
    values["terms"] = case.terms or [BLANK, BLANK, BLANK]
    values["performance"] = (
        f"于{_day(case.performance_due)}前履行完毕。" if case.performance_due else BLANK
    )
    values["accepted_on"] = _day(case.accepted_on)
    values["signed_on"] = _day(case.agreement_on) if case.agreement_on else "____年____月____日"
    values["copies"] = COPIES
    return values


def _day(day) -> str:
    return day.strftime("%Y年%m月%d日")


def agreement_docx(case: AgreementCase) -> bytes:
    """The agreement of ``case`` as a DOCX file."""
    from docxtpl import DocxTemplate

    path = resources.files("reporting").joinpath("templates", "agreement.docx")
    with resources.as_file(path) as template_path:
        doc = DocxTemplate(str(template_path))
        doc.render(agreement_context(case), autoescape=True)
        buffer = io.BytesIO()
        doc.save(buffer)
    return buffer.getvalue()
