"""Fill zh_Hans translations from the table in locale/zh_hans_terms.py (run after makemessages).

Usage: .venv/bin/python locale/fill_zh.py   -- reports msgids still untranslated.
"""

import importlib.util
import pathlib
import sys

import polib

HERE = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("terms", HERE / "zh_hans_terms.py")
terms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(terms)

po = polib.pofile(str(HERE / "zh_Hans/LC_MESSAGES/django.po"))
missing = []
for e in po:
    if e.obsolete:
        continue
    if e.msgid_plural:
        t = terms.ZH.get(e.msgid)
        if t:
            e.msgstr_plural = {0: t}
            e.flags = [f for f in e.flags if f != "fuzzy"]
        elif not e.msgstr_plural.get(0) or "fuzzy" in e.flags:
            missing.append(e.msgid)
        continue
    t = terms.ZH.get(e.msgid)
    if t is not None:
        e.msgstr = t
        e.flags = [f for f in e.flags if f != "fuzzy"]
    elif not e.msgstr or "fuzzy" in e.flags:
        missing.append(e.msgid)
po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
po.metadata["Language"] = "zh_Hans"
po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
po.save()
for m in missing:
    print("untranslated:", repr(m))
print(f"{len(missing)} untranslated", file=sys.stderr)
