"""Reports (issue 12): the monthly report, the mediation statistics form and the mediation
agreement. Every figure is compared with the measures service for the same scope and period,
on both backends; the files are opened with real readers (openpyxl, pdftotext, python-docx)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
import zipfile

import openpyxl
import pytest
from docx import Document
from sqlalchemy.orm import Session

from grid_model.cli import main
from grid_model.errors import InvalidInputError, PermissionDeniedError
from grid_model.measures.summary import compute_kpis
from grid_model.reports.agreement import agreement_case
from grid_model.reports.mediation import TOTAL, mediation_form
from grid_model.reports.monthly import INDICATORS, kpi_values, monthly_report
from grid_model.reports.period import ReportMonth
from grid_model.scope import Scope, Viewer
from reporting.files import monthly_images, render_agreement, render_mediation
from reporting.pdf import monthly_html, monthly_pdf
from reporting.xlsx import monthly_xlsx
from tests.factories import COMMUNITY, add_need, add_service_event, make_community

pytestmark = pytest.mark.db

D = dt.date
TODAY = D(2025, 12, 31)
MONTH = ReportMonth(2025, 11)
ADMIN = Viewer.local_admin()
LEADER = Viewer(role="community_leader", area_code=COMMUNITY[0], name="leader")
FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'
HTML_NAME = "<script>alert(1)</script>&<b>"
MATH_NAME = "$x^$网格{{ 7*7 }}"  # broken mathtext for matplotlib, a Jinja2 tag
SECRET = "秘密当事人王五"


def _data(session: Session):
    """Four grids (two with hostile names), needs in the month, the month before and a year
    before, mediation cases of several dispute types, an overdue case of a person under
    community correction, publicity events."""
    c = make_community(session, n_grids=4)
    c.grids[0].name, c.grids[1].name, c.grids[2].name = FORMULA_NAME, HTML_NAME, MATH_NAME
    g = c.grid_codes
    need = add_need
    for i, day in enumerate([D(2025, 11, 3), D(2025, 11, 10), D(2025, 11, 20)]):
        need(
            session,
            grid_code=g[i % 4],
            reported_at=day,
            category="consultation",
            status="closed",
            outcome="resolved",
            closed_at=day + dt.timedelta(days=2),
        )
    need(
        session,
        grid_code=g[0],
        reported_at=D(2025, 10, 5),
        category="consultation",
        status="closed",
        outcome="resolved",
        closed_at=D(2025, 10, 20),
    )
    need(session, grid_code=g[1], reported_at=D(2024, 11, 5), category="legal_aid")
    mediations = [
        ("邻里纠纷", "closed", "mediated", D(2025, 11, 4)),
        ("邻里纠纷", "closed", "mediation_failed", D(2025, 11, 6)),
        ("合同纠纷", "closed", "mediated", D(2025, 11, 8)),
        ("物业纠纷", "in_progress", None, D(2025, 11, 25)),
        (None, "recorded", None, D(2025, 11, 26)),
    ]
    cases = []
    for dispute, status, outcome, day in mediations:
        cases.append(
            need(
                session,
                grid_code=g[2],
                reported_at=day,
                category="mediation",
                dispute_type=dispute,
                status=status,
                outcome=outcome,
                closed_at=day + dt.timedelta(days=5) if status == "closed" else None,
                resident_name="李四" if dispute == "邻里纠纷" else "赵六",
                resident_phone="13900000001",
                description=f"{dispute}的事实",
                worker_code=c.workers["mediator"][2].code,
            )
        )
    need(
        session,
        grid_code=g[3],
        reported_at=D(2025, 11, 1),
        category="correction",
        under_correction=True,
        due_date=D(2025, 11, 10),
        resident_name=SECRET,
        resident_phone="13700000009",
    )
    need(
        session,
        grid_code=g[0],
        reported_at=D(2025, 9, 1),
        category="legal_aid",
        resident_name="钱七",
        resident_phone="13600000002",
    )  # overdue by November
    for day, grid, kind in [
        (D(2025, 11, 5), g[0], "lecture"),
        (D(2025, 11, 19), g[1], "film_screening"),
        (D(2025, 11, 12), g[2], "visit"),
        (D(2025, 10, 9), g[0], "lecture"),
    ]:
        add_service_event(session, held_on=day, grid_code=grid, kind=kind)
    cases[3].supervised_due = D(2025, 12, 5)
    session.flush()
    return c, cases


@pytest.fixture()
def data(session):
    return _data(session)


def _report(session, viewer=ADMIN, area=COMMUNITY[0]):
    return monthly_report(
        session, month=MONTH, area_code=area, viewer=viewer, today=TODAY, permutations=0
    )


def _month_scope(area):
    return Scope(area_code=area, start=MONTH.start, end=MONTH.end)


# --- the figures ---------------------------------------------------------------------------


def test_monthly_headline_equals_the_measures(session, data):
    report = _report(session)
    now = kpi_values(compute_kpis(session, _month_scope(COMMUNITY[0]), today=MONTH.end))
    prev_m, year_m = MONTH.previous(), MONTH.last_year()
    before = kpi_values(
        compute_kpis(session, Scope(COMMUNITY[0], prev_m.start, prev_m.end), today=prev_m.end)
    )
    year = kpi_values(
        compute_kpis(session, Scope(COMMUNITY[0], year_m.start, year_m.end), today=year_m.end)
    )
    assert [h.name for h in report.headline] == list(INDICATORS)
    for h in report.headline:
        assert (h.value, h.previous, h.last_year) == (now[h.name], before[h.name], year[h.name])
    assert now["needs"] == 9 and before["needs"] == 1 and year["needs"] == 1
    closure = next(h for h in report.headline if h.name == "closure_rate")
    assert closure.change_mom == round((now["closure_rate"] - before["closure_rate"]) * 100, 1)


def test_monthly_units_categories_disputes_equal_the_measures(session, data):
    c, _ = data
    report = _report(session)
    assert report.unit_level == "grid"
    assert list(report.units["code"]) == c.grid_codes
    for row in report.units.to_dict("records"):
        expected = kpi_values(compute_kpis(session, _month_scope(row["code"]), today=MONTH.end))
        for name, value in expected.items():
            assert row[name] == pytest.approx(value, nan_ok=True) or (value is None)
    assert report.units["needs_rank"].notna().all()
    for row in report.by_category.to_dict("records"):
        scope = dataclasses.replace(_month_scope(COMMUNITY[0]), categories=(row["category"],))
        assert row["needs"] == compute_kpis(session, scope, today=MONTH.end).needs
    disputes = report.by_dispute_type.set_index("dispute_type")
    assert len(disputes) == 15
    assert disputes.loc["邻里纠纷", ["needs", "mediated", "failed"]].tolist() == [2, 1, 1]
    assert disputes.loc["物业纠纷", ["needs", "open"]].tolist() == [1, 1]
    street = _report(session, area=COMMUNITY[0][:9])
    assert street.unit_level == "community"
    assert street.units.iloc[0]["needs"] == report.kpis.needs


def test_monthly_overdue_publicity_and_words(session, data):
    report = _report(session)
    assert (
        report.overdue_count
        == compute_kpis(session, Scope(COMMUNITY[0]), today=MONTH.end).overdue_open
    )
    assert report.supervised_count == 1  # open, under supervision, not yet overdue
    assert len(report.overdue) == report.overdue_count + 1
    assert report.overdue["supervised_due"].notna().sum() == 1
    held = report.publicity.set_index("code")["held"]
    assert held.sum() == 2  # the two publicity events of November; the visit is no publicity
    assert report.gaps["count"].sum() >= report.overdue_count
    assert set(report.trend["month"]) >= {"2025-11", "2025-10"}
    assert report.grid_map["needs"].sum() == report.kpis.needs


def test_mediation_form_equals_the_measures(session, data):
    form = mediation_form(
        session,
        start=D(2025, 11, 1),
        end=D(2025, 11, 30),
        area_code=COMMUNITY[0],
        viewer=ADMIN,
        today=TODAY,
    )
    scope = Scope(COMMUNITY[0], D(2025, 11, 1), D(2025, 11, 30), categories=("mediation",))
    kpis = compute_kpis(session, scope, today=D(2025, 11, 30))
    total = form.row(TOTAL)
    assert total["accepted"] == kpis.needs == 5
    assert total["mediated"] == kpis.disputes_mediated == 2
    assert total["in_progress"] == kpis.needs - kpis.closed == 2
    assert total["failed"] == 1
    for row in form.rows.to_dict("records"):  # every row adds up
        parts = row["mediated"] + row["failed"] + row["other_closed"] + row["in_progress"]
        assert parts == row["accepted"]
    assert form.row("邻里纠纷")["accepted"] == 2 and form.row("")["accepted"] == 1
    assert len(form.rows) == 17  # 15 types, the untyped row, the total
    assert total["written"] is None  # no case file yet
    with pytest.raises(InvalidInputError):
        mediation_form(session, start=D(2025, 12, 1), end=D(2025, 11, 1), viewer=ADMIN, today=TODAY)


def test_a_month_not_begun_is_refused(session, data):
    with pytest.raises(InvalidInputError, match="2026-01"):
        monthly_report(session, month="2026-01", viewer=ADMIN, today=TODAY)


def test_month_is_validated():
    for bad in ("2025-13", "25-11", "2025-1", "=1+1", None):
        with pytest.raises(InvalidInputError):
            ReportMonth.parse(bad)


# --- the files ------------------------------------------------------------------------------


def test_xlsx_sheets_numbers_and_no_formulas(session, data):
    report = _report(session)
    wb = openpyxl.load_workbook(io.BytesIO(monthly_xlsx(report, monthly_images(report))))
    assert wb.sheetnames[:3] == ["封面", "主要指标", "分网格指标与排名"]
    assert len(wb.sheetnames) == 9
    head = wb["主要指标"]
    rows = {r[0].value: r for r in head.iter_rows(min_row=4) if r[0].value}
    needs = rows["法律需求"]
    assert needs[1].value == report.kpis.needs and needs[1].number_format == "#,##0"
    rate = rows["结案率"]
    assert rate[1].value == pytest.approx(report.kpis.closure_rate)
    assert rate[1].number_format == "0.0%"
    trend_sheet = wb[wb.sheetnames[-1]]
    assert trend_sheet._charts and trend_sheet._images
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + FORMULA_NAME in texts and not [t for t in texts if t.startswith("=")]
    assert HTML_NAME in texts


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_holds_the_figures_in_chinese(session, data, tmp_path):
    report = _report(session)
    pdf = monthly_pdf(report, monthly_images(report))
    text = _pdf_text(pdf, tmp_path)
    assert "主要指标" in text and "育德社区" in text and re.search(r"第\s*1\s*页", text)
    kpis = report.kpis
    assert f"{kpis.closure_rate * 100:.1f}%" in text
    assert f"{kpis.on_time_rate * 100:.1f}%" in text
    assert "新增热点" in text and "合计" not in text
    for row in report.units.itertuples():
        assert row.code in text
    (tmp_path / "r.pdf").write_bytes(pdf)
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "Noto-Sans-CJK-SC" in fonts and " yes yes " in fonts
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "r.pdf"),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    assert list(tmp_path.glob("p*.png"))


def test_hostile_names_are_escaped_in_html_and_pdf(session, data, tmp_path):
    report = _report(session)
    html = monthly_html(report, {})
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = _pdf_text(monthly_pdf(report, {}), tmp_path)
    assert "<script>alert(1)</script>" in text  # shown as text
    assert "{{ 7*7 }}" in html  # a value is never rendered as a template
    images = monthly_images(report)  # a name matplotlib would read as broken mathtext
    assert images["map"].startswith(b"\x89PNG")


def test_role_without_personal_data_sees_none(session, data, tmp_path):
    report = _report(session, viewer=LEADER)
    assert not report.personal_data
    assert "resident_name" not in report.overdue.columns
    admin = _report(session)
    # the person under community correction is left out
    assert report.overdue_count == admin.overdue_count - 1 == 2
    xlsx = monthly_xlsx(report, {})
    pdf_text = _pdf_text(monthly_pdf(report, {}), tmp_path)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        raw = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    for secret in (SECRET, "钱七", "13600000002"):
        assert secret not in raw and secret not in pdf_text
    assert admin.personal_data and "钱七" in set(admin.overdue["resident_name"])
    with pytest.raises(PermissionDeniedError):
        agreement_case(session, data[1][0].id, LEADER)


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join(p.text for p in doc.paragraphs)


def test_agreement_holds_its_case_and_no_other(session, data):
    _, cases = data
    first, other = cases[0], cases[2]
    first.resident_name = "李四<w:t>&amp;"
    first.description = "事实{{ 7*7 }}{% if true %}x{% endif %}"
    session.flush()
    text = _docx_text(render_agreement(agreement_case(session, first.id, ADMIN)))
    for value in (
        "李四<w:t>&amp;",
        "13900000001",
        "邻里纠纷",
        first.external_id,
        "育德社区人民调解委员会",
        "事实{{ 7*7 }}{% if true %}x{% endif %}",
        "M3",
        "人民调解协议书",
        "2025年11月04日",
    ):
        assert value in text, value
    for value in ("赵六", other.external_id, "合同纠纷"):
        assert value not in text, value
    consultation = add_need(session, category="consultation")
    with pytest.raises(InvalidInputError):
        agreement_case(session, consultation.id, ADMIN)


def test_mediation_xlsx_layout(session, data):
    form = mediation_form(
        session,
        start=D(2025, 11, 1),
        end=D(2025, 11, 30),
        area_code=COMMUNITY[0],
        viewer=ADMIN,
        today=TODAY,
    )
    ws = openpyxl.load_workbook(io.BytesIO(render_mediation(form))).active
    assert ws["A1"].value == "人民调解案件统计表"
    assert [ws.cell(row=4, column=j).value for j in (1, 2, 3, 4, 5, 6)] == [
        "纠纷类型",
        "受理纠纷数",
        "调解成功",
        "调解不成",
        "其他方式结案",
        "正在调解",
    ]
    rows = {ws.cell(row=r, column=1).value: r for r in range(6, 6 + len(form.rows))}
    assert ws.cell(row=rows["合计"], column=2).value == 5
    assert ws.cell(row=rows["邻里纠纷"], column=3).value == 1
    assert ws.cell(row=4, column=7).value == "调解协议"
    assert [ws.cell(row=5, column=j).value for j in (7, 8)] == ["书面协议", "口头协议"]
    assert ws.cell(row=rows["合计"], column=7).value == "—"


def test_cli_reports(committed_engine, tmp_path, capsys):
    with Session(committed_engine) as s, s.begin():
        _, cases = _data(s)
        case_id = cases[0].id
    url = committed_engine.url.render_as_string(hide_password=False)
    base = ["--db", url, "-q", "report"]
    out = tmp_path / "m.xlsx"
    assert (
        main(
            [
                *base,
                "monthly",
                "--month",
                "2025-11",
                "--area",
                COMMUNITY[0],
                "--today",
                "2025-12-31",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "分网格指标与排名" in openpyxl.load_workbook(out).sheetnames
    assert (
        main(
            [
                *base,
                "mediation",
                "--start",
                "2025-11-01",
                "--end",
                "2025-11-30",
                "--out",
                str(tmp_path / "f.xlsx"),
            ]
        )
        == 0
    )
    assert main([*base, "agreement", str(case_id), "--out", str(tmp_path / "a.docx")]) == 0
    assert "李四" in _docx_text((tmp_path / "a.docx").read_bytes())
    assert (
        main(
            [
                *base,
                "agreement",
                str(case_id),
                "--role",
                "community_leader",
                "--out",
                str(tmp_path / "b.docx"),
            ]
        )
        != 0
    )
    assert not (tmp_path / "b.docx").exists()
    assert main([*base, "monthly", "--month", "2025-11", "--out", str(tmp_path / "m.csv")]) == 3
    assert main([*base, "monthly", "--month", "11/2025", "--out", str(out)]) == 3
    assert "错误" in capsys.readouterr().err


def test_report_texts_in_both_languages():
    import string

    from grid_model.messages import MESSAGES
    from reporting.labels import REPORT_TEXTS

    def fields(s):
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    entries = {**REPORT_TEXTS, **{k: v for k, v in MESSAGES.items() if k.startswith("report_")}}
    for key, entry in entries.items():
        assert entry.get("zh") and entry.get("en"), key
        assert fields(entry["zh"]) == fields(entry["en"]), key


def test_english_pdf(session, data, tmp_path):
    report = monthly_report(
        session,
        month=MONTH,
        area_code=COMMUNITY[0],
        viewer=ADMIN,
        today=TODAY,
        lang="en",
        permutations=0,
    )
    text = _pdf_text(monthly_pdf(report, monthly_images(report, "en"), "en"), tmp_path)
    assert "Headline indicators" in text and "Closure rate" in text
    assert re.search(r"Page\s+1\s+of", text)


def _case_files(session, community, cases):
    """Case files (through the ORM, as the case-file service stores them) for the first
    neighbour dispute (written agreement, performed, judicially confirmed) and the contract
    dispute (oral agreement)."""
    from grid_model.models import MediationCase, MediationMediator, MediationParty

    neighbours, contract = cases[0], cases[2]
    files = []
    for need, kind, text, performed, granted in [
        (neighbours, "written", "甲方赔偿乙方 500 元\n乙方撤回投诉", "performed", D(2025, 11, 20)),
        (contract, "oral", None, None, None),
    ]:
        file = MediationCase(
            need_id=need.id,
            district_code=need.district_code,
            dispute_type=need.dispute_type,
            accepted_on=need.reported_at,
            due_on=need.reported_at + dt.timedelta(days=30),
            agreement_kind=kind,
            agreement_text=text,
            agreement_on=need.reported_at + dt.timedelta(days=3),
            performance_due=D(2025, 12, 15),
            performance_result=performed,
            judicial_granted_on=granted,
        )
        session.add(file)
        session.flush()
        files.append(file)
    session.add_all(
        [
            MediationParty(
                case_id=files[0].id,
                side="applicant",
                name="李四",
                phone="13900000001",
                id_number="440703199001011234",
            ),
            MediationParty(
                case_id=files[0].id, side="respondent", name="周八", phone="13900000003"
            ),
            MediationParty(case_id=files[1].id, side="applicant", name="赵六", phone="13900000004"),
            MediationMediator(
                case_id=files[0].id, worker_code=community.workers["mediator"][1].code
            ),
        ]
    )
    session.flush()
    return files


def test_mediation_form_counts_the_case_files(session, data):
    community, cases = data
    _case_files(session, community, cases)
    form = mediation_form(
        session,
        start=D(2025, 11, 1),
        end=D(2025, 11, 30),
        area_code=COMMUNITY[0],
        viewer=ADMIN,
        today=TODAY,
    )
    assert form.case_file
    neighbours, contract, total = form.row("邻里纠纷"), form.row("合同纠纷"), form.row(TOTAL)
    assert [neighbours[c] for c in ("written", "oral", "performed", "confirmed")] == [1, 0, 1, 1]
    assert [contract[c] for c in ("written", "oral", "performed", "confirmed")] == [0, 1, 0, 0]
    assert [total[c] for c in ("written", "oral", "performed", "confirmed")] == [1, 1, 1, 1]
    from grid_model.cases.indicators import case_indicators

    scope = Scope(COMMUNITY[0], D(2025, 11, 1), D(2025, 11, 30), categories=("mediation",))
    loop = case_indicators(session, scope, ADMIN, as_of=D(2025, 11, 30))
    assert total["performed"] == loop.agreements_performed
    early = mediation_form(
        session,
        start=D(2025, 11, 1),
        end=D(2025, 11, 5),
        area_code=COMMUNITY[0],
        viewer=ADMIN,
        today=D(2025, 11, 5),
    )
    assert early.row(TOTAL)["written"] == 0  # the agreement was made on the 7th
    ws = openpyxl.load_workbook(io.BytesIO(render_mediation(form))).active
    totals = next(r for r in ws.iter_rows(min_row=6, values_only=True) if r[0] == "合计")
    assert totals[6:] == (1, 1, 1, 1)


def test_agreement_from_the_case_file(session, data):
    community, cases = data
    _case_files(session, community, cases)
    text = _docx_text(render_agreement(agreement_case(session, cases[0].id, ADMIN)))
    for value in (
        "申请人:李四",
        "被申请人:周八",
        "440703199001011234",
        "1. 甲方赔偿乙方 500 元",
        "2. 乙方撤回投诉",
        "M2",
        "于2025年12月15日前履行完毕",
        "2025年11月07日",
    ):
        assert value in text, value
    assert "赵六" not in text and "13900000004" not in text
    other = _docx_text(render_agreement(agreement_case(session, cases[2].id, ADMIN)))
    assert "赵六" in other and "周八" not in other and "李四" not in other


def test_report_keeps_to_the_viewers_area(session, data):
    elsewhere = _report(session, viewer=LEADER, area="440703006101")  # another community
    assert elsewhere.area_code == COMMUNITY[0] and elsewhere.area_name == "育德社区"
    assert elsewhere.kpis == _report(session, viewer=LEADER).kpis
    wider = _report(session, viewer=LEADER, area=COMMUNITY[0][:9])  # the street around it
    assert wider.kpis.needs == _report(session).kpis.needs


def test_loop_indicators_equal_gridlaw_indicators_json(committed_engine, capsys):
    """The closed-loop figures of the report are those ``gridlaw indicators --json`` prints for
    the same area and month."""
    import json

    from grid_model.reports.monthly import LOOP_INDICATORS

    with Session(committed_engine) as s, s.begin():
        _data(s)
    url = committed_engine.url.render_as_string(hide_password=False)
    assert (
        main(
            [
                "--db",
                url,
                "indicators",
                "--json",
                "--area",
                COMMUNITY[0],
                "--start",
                "2025-11-01",
                "--end",
                "2025-11-30",
                "--as-of",
                "2025-11-30",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    with Session(committed_engine) as s:
        report = _report(s)
    loop = {h.name: h.value for h in report.loop}
    assert list(loop) == list(LOOP_INDICATORS)
    for name, value in loop.items():
        assert value == printed[name], name
    assert loop["supervised"] == 1
    assert printed["needs"] == report.kpis.needs and printed["closed"] == report.kpis.closed
