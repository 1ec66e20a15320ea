"""A bounded crawl of every page a signed-in user can reach from the navigation, in a real browser,
looking for raw codes in the visible text of a Chinese page (issue 13).

Generic on purpose: it discovers links (``a[href]``) rather than following a list, so a page added
later is crawled as soon as something links to it. Bounded: at most ``per_shape`` URLs of one
shape (digits replaced, query keys kept), ``max_pages`` in all; GET only; logout, the Django admin,
language switching and downloads are skipped.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

#: what raw code looks like on a page meant for people
TOKEN_PATTERNS = {
    "snake_case": re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./@-])"),
    "None": re.compile(r"\bNone\b"),
    "True/False": re.compile(r"\b(?:True|False)\b"),
    "key:value": re.compile(r"(?<![\w/])[a-z]+:[a-z_]+\b"),
    "Python repr": re.compile(r"object at 0x|\{'|'\}|<[A-Za-z_.]+ object|\[<|QuerySet|\bdatetime\.|Decimal\('"),
    "app.Model": re.compile(r"\b[a-z]+\.[A-Z][A-Za-z]+\b"),
    "English words": re.compile(r"(?<![\w./@-])[a-z]{2,}(?: [a-z]{2,})+(?![\w./@-])"),
}
_URL = re.compile(r"https?://\S+")

#: links never followed: they change state, leave the app or download a file
SKIP = re.compile(
    r"^/(?:accounts/logout|admin/|i18n/|static/|media/)|/download|/template|\.xlsx|\.csv|\.zip|/export(?:/|$)|/file/"
)


def model_words() -> re.Pattern:
    """The project's model class names (``ServicePeriod``) and English verbose names as whole words:
    on a Chinese page either means something was shown untranslated."""
    from django.apps import apps
    from django.utils import translation

    words = set()
    with translation.override("en"):
        for m in apps.get_models():
            if m._meta.app_label not in {"schools", "teachers", "pairing", "subsidies", "inspections", "jinpin"}:
                continue
            words.add(m.__name__)
            for name in (m._meta.verbose_name, m._meta.verbose_name_plural):
                name = str(name)
                if len(name) >= 5 and name.isascii():
                    words.add(name)
    alternation = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])")


def raw_tokens(text: str, models: re.Pattern | None = None) -> list[tuple[str, str]]:
    """(kind, token) for each raw code in ``text``."""
    found = []
    text = _URL.sub(" ", text)
    for kind, pattern in TOKEN_PATTERNS.items():
        found.extend((kind, m.group(0)) for m in pattern.finditer(text))
    if models is not None:
        found.extend(("English model name", m.group(0)) for m in models.finditer(text))
    return found


def shape(path: str, query: str) -> str:
    """``/subsidies/awards/123/?page=2`` → ``/subsidies/awards/#/?page``: URLs of one shape show the same template."""
    keys = sorted({k for k, _v in parse_qsl(query, keep_blank_values=True)})
    return re.sub(r"\d+", "#", path) + ("?" + "&".join(keys) if keys else "")


@dataclass
class Report:
    role: str
    pages: int = 0
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)  # url, kind, token, context
    errors: list[tuple[str, str]] = field(default_factory=list)  # url, status or exception

    @property
    def tokens(self) -> int:
        return len(self.failures)


def crawl(page, base: str, role: str, *, max_pages: int = 150, per_shape: int = 2, models=None) -> Report:
    """Visit what ``page`` (signed in) can reach from /home/; return what was found."""
    report = Report(role)
    seen_urls: set[str] = set()
    shapes: dict[str, int] = {}
    queue = deque(["/home/"])
    while queue and report.pages < max_pages:
        url = queue.popleft()
        if url in seen_urls:
            continue
        seen_urls.add(url)
        parts = urlsplit(url)
        key = shape(parts.path, parts.query)
        if shapes.get(key, 0) >= per_shape:
            continue
        shapes[key] = shapes.get(key, 0) + 1
        try:
            response = page.goto(base + url, wait_until="domcontentloaded")
        except Exception as e:  # noqa: BLE001 - a download or a navigation error is reported, not raised
            if "Download is starting" in str(e):
                continue
            report.errors.append((url, str(e).splitlines()[0]))
            continue
        report.pages += 1
        if response is None or response.status >= 400:
            report.errors.append((url, str(response.status if response else "no response")))
            continue
        if urlsplit(page.url).path.startswith("/accounts/login"):
            report.errors.append((url, "sent to the login page"))
            continue
        text = page.evaluate("() => document.title + '\\n' + document.body.innerText")
        for kind, token in raw_tokens(text, models):
            i = text.find(token)
            context = text[max(0, i - 40) : i + len(token) + 40].replace("\n", " ")
            report.failures.append((url, kind, token, context))
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            target = _internal(href, parts.path)
            if target and target not in seen_urls:
                queue.append(target)
    return report


def _internal(href: str, current: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path or current
    if not path.startswith("/"):
        path = current.rsplit("/", 1)[0] + "/" + path
    if SKIP.search(path):
        return None
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return path + ("?" + query if query else "")


def summary(reports: list[Report]) -> str:
    lines = ["role                 pages  raw tokens  errors"]
    for r in reports:
        lines.append(f"{r.role:<20} {r.pages:>5}  {r.tokens:>10}  {len(r.errors):>6}")
    for r in reports:
        for url, kind, token, context in r.failures:
            lines.append(f"  {r.role}: {url} [{kind}] {token!r} … {context}")
        for url, what in r.errors:
            lines.append(f"  {r.role}: {url} error {what}")
    return "\n".join(lines)
