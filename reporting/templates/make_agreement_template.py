"""Build ``agreement.docx``, the mediation agreement template (调解协议书), with python-docx.

Run ``python reporting/templates/make_agreement_template.py`` after changing the layout; the
result is committed beside this script. The placeholders are docxtpl (Jinja2) tags filled
from :class:`grid_model.reports.agreement.AgreementCase` by :mod:`reporting.docx`.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).with_name("agreement.docx")
FONT = "Noto Serif CJK SC"


def _font(run, size: float, *, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _para(doc, text: str, *, size: float = 12, bold: bool = False, align=None, indent=False):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(4)
    _font(p.add_run(text), size, bold=bold)
    return p


def build() -> Path:
    doc = Document()
    for section in doc.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
        section.left_margin = section.right_margin = Cm(2.6)
    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _para(doc, "{{ committee }}", size=14, bold=True, align=centre)
    _para(doc, "人民调解协议书", size=20, bold=True, align=centre)
    _para(doc, "编号:{{ case_number }}", size=11, align=right)
    _para(doc, "当事人", size=12, bold=True)
    _para(doc, "{%p for p in parties %}")
    _para(
        doc,
        "{{ p.role }}:{{ p.name }}  联系电话:{{ p.phone }}  "
        "身份证号码:{{ p.id_number }}  住址:{{ p.address }}",
    )
    _para(doc, "{%p endfor %}")
    _para(doc, "纠纷类型:{{ dispute_type }}    受理日期:{{ accepted_on }}")
    _para(doc, "纠纷主要事实、争议事项", size=12, bold=True)
    _para(doc, "{{ facts }}", indent=True)
    _para(doc, "经调解,自愿达成如下协议", size=12, bold=True)
    _para(doc, "{%p for term in terms %}")
    _para(doc, "{{ loop.index }}. {{ term }}", indent=True)
    _para(doc, "{%p endfor %}")
    _para(doc, "履行方式、时限", size=12, bold=True)
    _para(doc, "{{ performance }}", indent=True)
    _para(doc, "本协议一式{{ copies }}份,当事人、人民调解委员会各持一份。", indent=True)
    _para(doc, "")
    _para(doc, "当事人(签名或盖章):")
    _para(doc, "{%p for p in parties %}")
    _para(doc, "{{ p.name }}:________________")
    _para(doc, "{%p endfor %}")
    _para(doc, "人民调解员(签名):{{ mediators }}________________")
    _para(doc, "记录人(签名):________________")
    _para(doc, "")
    _para(doc, "(人民调解委员会印)", align=right)
    _para(doc, "{{ signed_on }}", align=right)
    doc.save(OUT)
    return OUT


if __name__ == "__main__":
    print(build())
