"""Seed the 六核对 checklist, the finding categories and the list of city departments.

These are starting data, meant to be edited: the city administrator changes, adds, reorders or
deactivates items in the application (督查活动 → 基础名单: 市直部门, 六核对检查项目, 问题类别;
inspections/lists.py) or the admin. A deactivated checklist item is no longer offered on new checks;
results already recorded keep it.
"""

from django.db import migrations

CHECKLIST = [
    ("identity", "核对户籍人口", "户口簿与档案中的家庭成员、身份证号一致"),
    ("income", "核对家庭收入", "人均纯收入低于当年扶贫标准，收入来源与档案一致"),
    ("housing", "核对住房情况", "住房面积、结构与档案记载一致，无商品房"),
    ("vehicle", "核对车辆财产", "家庭无小轿车、工程机械等大件财产"),
    ("public_job", "核对财政供养", "家庭成员无财政供养人员、村干部"),
    ("cause", "核对致贫原因", "致贫原因与帮扶措施对应"),
    ("file_standard", "档案规范（一规范）", "扶贫手册、明白卡填写规范，签字齐全"),
]

CATEGORIES = [
    ("identification", "识别不精准", 10),
    ("file", "档案资料不规范", 20),
    ("measures", "帮扶措施不落实", 30),
    ("subsidy", "资助政策落实不到位", 40),
    ("payment", "资金发放问题", 50),
    ("other", "其他", 90),
]

DEPARTMENTS = [
    "市发展和改革委员会", "市财政局", "市人力资源和社会保障局", "市住房和城乡建设局", "市交通运输局",
    "市水利局", "市农业局", "市林业局", "市卫生和计划生育委员会", "市民政局", "市审计局",
    "市国土资源局", "市环境保护局", "市商务局", "市文化广电新闻出版局", "市统计局", "市扶贫开发办公室",
    "市科学技术局", "市公安局", "市司法局",
]


def forward(apps, schema_editor):
    ChecklistItem = apps.get_model("inspections", "ChecklistItem")
    FindingCategory = apps.get_model("inspections", "FindingCategory")
    CityDepartment = apps.get_model("inspections", "CityDepartment")
    for order, (code, label, help_text) in enumerate(CHECKLIST, start=1):
        ChecklistItem.objects.get_or_create(
            code=code, defaults={"label": label, "help_text": help_text, "order": order * 10}
        )
    for code, name, order in CATEGORIES:
        FindingCategory.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    for order, name in enumerate(DEPARTMENTS, start=1):
        CityDepartment.objects.get_or_create(code=f"D{order:02d}", defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_campaigns_draws_checks_findings")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
