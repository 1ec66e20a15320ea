"""Issue 13: values as people read them -- money, people, dates, choices, download names, the audit log,
an award's frozen facts -- each written once (jinpin.display, jinpin.auditview) and used everywhere."""

import datetime as dt
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.template import Context, Template
from django.utils import translation

from jinpin import audit, auditview, display
from jinpin.scope import Role

pytestmark = pytest.mark.django_db


def test_money_has_thousands_separators_and_two_places():
    assert display.yuan(Decimal("4123350")) == "4,123,350.00"
    assert display.yuan("1000.5") == "1,000.50"
    assert display.yuan(0) == "0.00"
    assert display.yuan(None) == ""
    html = Template('{% load jinpin_tags %}{{ v|yuan|default:"—" }}|{{ n|yuan|default:"—" }}').render(
        Context({"v": Decimal("1234.5"), "n": None})
    )
    assert html == "1,234.50|—"


def test_a_person_is_their_full_name_else_the_login(world):
    world.principal_a.first_name = "李校长"
    world.principal_a.save(update_fields=["first_name"])
    assert display.person(world.principal_a) == "李校长"
    world.officer_a.first_name = world.officer_a.last_name = ""
    assert display.person(world.officer_a) == "t_officer_a"
    assert display.person(None) == ""


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_dates_read_the_same_in_both_languages(lang):
    with translation.override(lang):
        out = Template("{{ d }}|{{ t }}").render(
            Context({"d": dt.date(2016, 9, 26), "t": dt.datetime(2016, 9, 26, 14, 5, tzinfo=dt.UTC)})
        )
    assert out == "2016-09-26|2016-09-26 22:05"  # Asia/Shanghai


def test_download_names_are_chinese_with_an_rfc_5987_header(world, client_for):
    header = display.content_disposition("发放批次3银行代发文件.xlsx")
    assert header.startswith("attachment; filename=\"3.xlsx\"; filename*=UTF-8''")
    assert unquote(header.split("UTF-8''", 1)[1]) == "发放批次3银行代发文件.xlsx"
    assert display.content_disposition("学校.xlsx").startswith('attachment; filename="download.xlsx"')

    response = client_for(world.officer_a).get("/schools/import/schools/template/")
    assert response.status_code == 200
    name = unquote(response["Content-Disposition"].split("UTF-8''", 1)[1])
    assert name == "学校导入模板.xlsx"


def test_choice_labels_and_yes_no(world):
    assert display.choice_label("verified", "subsidies.HouseholdStatus.status") == "已核实（回头看、六核对一规范）"
    assert display.choice_label("nonsense", "subsidies.HouseholdStatus.status") == "nonsense"
    assert (display.yes_no(True), display.yes_no(False), display.yes_no(None)) == ("是", "否", "")


def test_two_meanings_are_told_apart():
    from subsidies.models import AwardStatus, AwardStep
    from teachers.models.training import TrainingLevel

    assert str(TrainingLevel.COUNTY.label) == "县级"
    assert str(TrainingLevel.SCHOOL.label) == "校级"
    assert str(AwardStep.Action.REJECT.label) == "驳回"  # the action, a verb
    assert str(AwardStatus.REJECTED.label) == "已驳回"  # the status


def test_a_yes_no_filter_offers_any_not_unknown(world):
    from jinpin.scope import get_scope
    from schools.filters import SchoolFilter
    from schools.models import School

    f = SchoolFilter({}, queryset=School.objects.all(), scope=get_scope(world.admin))
    html = str(f.form["is_weak"])
    assert "不限" in html and "未知" not in html


def test_a_filter_drop_down_offers_all_not_dashes(world):
    from jinpin.scope import get_scope
    from subsidies.filters import AwardFilter
    from subsidies.models import Award

    f = AwardFilter({}, queryset=Award.objects.all(), scope=get_scope(world.admin))
    for name in ("scheme", "status"):  # a model choice and a plain choice
        html = str(f.form[name])
        assert '<option value="" selected>全部</option>' in html and "---------" not in html, html


def test_the_audit_log_reads_like_a_sentence(world, rf):
    world.admin.first_name = "市教育局管理员"
    world.admin.save(update_fields=["first_name"])
    school = world.weak_a
    # an update: a choice, a link to another record, a flag, an empty value, a manager printed by auditlog
    entry = audit.log(
        school,
        action=audit.Action.UPDATE,
        actor=world.admin,
        changes={
            "stage": ["primary", "junior"],
            "county": [str(world.county_b.pk), str(world.county_a.pk)],
            "is_weak": ["False", "True"],
            "name": ["None", "新名"],
            "tags": ["schools.School.None", "schools.School.None"],
        },
        event="import",
        params={"exporter": "schools.list"},
        fields=["pupil_id"],
        place="audit_trace",
        seal={"lines": 3, "total_fen": 100},
    )
    request = rf.get("/audit/")
    request.user = world.admin
    from jinpin.scope import get_scope

    request.scope = get_scope(world.admin)
    (shown,) = auditview.show_page(request, [entry])
    assert shown.action == "修改"
    assert shown.event == "导入表格"
    assert shown.actor == "市教育局管理员"
    assert shown.model == str(type(school)._meta.verbose_name)
    assert shown.name == str(school)
    changes = {label: (before, after) for label, before, after in shown.changes}
    assert changes[str(type(school)._meta.get_field("stage").verbose_name)] == ("小学", "初中")
    assert changes[str(type(school)._meta.get_field("county").verbose_name)] == ("泗水县", "汶上县")
    assert changes[str(type(school)._meta.get_field("is_weak").verbose_name)] == ("否", "是")
    assert changes[str(type(school)._meta.get_field("name").verbose_name)] == ("", "新名")
    assert len(changes) == 4  # the manager's print is no change at all
    data = dict(shown.data)
    assert data["字段"] == "学生身份证号" and data["位置"] == "发放追溯"
    assert data["封签"] == "明细数: 3；合计（分）: 100"
    assert "params" not in data and "参数" not in data


def test_an_award_s_frozen_facts_are_labelled(world):
    from subsidies.eligibility import facts_display

    facts = {
        "date": "2016-09-01",
        "school": world.weak_a.pk,
        "stage": "primary",
        "tekun": False,
        "household_dibao": True,
        "household_status": "verified",
        "poor_village": "provincial",
        "household": None,
    }
    shown = dict(facts_display(facts))
    assert shown["认定基准日"] == "2016-09-01"
    assert shown["学校"] == "汶上李庄小学"
    assert shown["学段"] == "小学"
    assert shown["贫困户享受低保"] == "是"
    assert "否" in shown.values()
    assert shown["建档立卡贫困户"] == "—"
    assert all(v not in ("True", "False", "None") for v in shown.values())


def test_membership_and_money_records_have_names(world):
    from schools.models import Membership

    world.principal_a.first_name = "王校长"
    world.principal_a.save(update_fields=["first_name"])
    m = Membership.objects.filter(user=world.principal_a).first()
    assert str(m).startswith("王校长 · ")
    assert Role.PRINCIPAL  # the membership's role is its label


def test_the_audit_log_page_shows_no_python_values(world, client_for):
    audit.log(
        world.weak_a,
        action=audit.Action.UPDATE,
        actor=world.officer_a,
        changes={
            "helped": {"type": "m2m", "operation": "add", "objects": ["汶上李庄小学"]},
            "stage": ["None", "primary"],
        },
        seal={"lines": 3},
    )
    body = client_for(world.auditor).get("/audit/?model=schools.school").content.decode()
    assert "添加：汶上李庄小学" in body and "小学" in body and "明细数: 3" in body
    assert "{'" not in body and "None" not in body and "m2m" not in body
    assert ">修改<" in body


def test_the_audit_logs_names_are_kept_until_the_named_table_changes(world, rf):
    """The names a page of entries shows come from the shared cache while their tables are unchanged
    (jinpin.auditview._names on jinpin.pagecache.kept): a renamed county reads its new name on the next page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jinpin.scope import get_scope
    from schools.models import County

    entry = audit.log(
        world.weak_a,
        action=audit.Action.UPDATE,
        actor=world.admin,
        changes={"county": [str(world.county_b.pk), str(world.county_a.pk)]},
    )
    request = rf.get("/audit/")
    request.user = world.admin
    request.scope = get_scope(world.admin)
    label = str(type(world.weak_a)._meta.get_field("county").verbose_name)

    def page():
        with CaptureQueriesContext(connection) as q:
            (shown,) = auditview.show_page(request, [entry])
        return {lbl: (b, a) for lbl, b, a in shown.changes}[label], q.captured_queries

    for _ in range(2):  # noted, then kept (the tables read before the second computation)
        assert page()[0] == ("泗水县", "汶上县")
    names, queries = page()
    assert names == ("泗水县", "汶上县") and not any('FROM "schools_county"' in q["sql"] for q in queries)
    County.objects.filter(pk=world.county_b.pk).update(name="新泗水县")
    names, queries = page()
    assert names == ("新泗水县", "汶上县") and any('FROM "schools_county"' in q["sql"] for q in queries)
