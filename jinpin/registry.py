"""Registries that let the project's shell list what the apps offer, without importing them.

* ``menu(label, url_name, roles=None, order=100)`` -- an entry in the top navigation;
* ``home_panel(fn, order=100)`` -- ``fn(request) -> dict | None`` adds a panel to the
  signed-in user's home page (``{"title":..., "template":..., **context}``);
* ``demo_seeder(fn, order=100)`` -- ``fn(stdout, scale) -> None`` runs in ``seed_demo``;
  it must be idempotent.

Apps call these in their ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    roles: frozenset | None
    order: int


_menu: list[MenuItem] = []
_panels: list[tuple[int, Callable]] = []
_seeders: list[tuple[int, str, Callable]] = []


def menu(label, url_name: str, *, roles=None, order: int = 100) -> None:
    if any(m.url_name == url_name for m in _menu):
        return
    _menu.append(MenuItem(label, url_name, frozenset(roles) if roles else None, order))
    _menu.sort(key=lambda m: m.order)


def menu_for(scope) -> list[MenuItem]:
    if scope.role is None:
        return []
    return [m for m in _menu if m.roles is None or scope.role in m.roles]


@dataclass(frozen=True)
class Section:
    label: str
    url_name: str
    active: bool
    items: list


def sections_for(scope, namespace: str | None) -> list[Section]:
    """The menu grouped by app (the url namespace): one top-level entry per app, with the
    app's pages as a second row when one of them is open. Labels are the apps' verbose names."""
    from django.apps import apps

    groups: dict[str, list[MenuItem]] = {}
    for item in menu_for(scope):
        groups.setdefault(item.url_name.split(":")[0] if ":" in item.url_name else item.url_name, []).append(item)
    out = []
    for key, items in groups.items():
        if ":" in items[0].url_name and apps.is_installed(key):
            label = apps.get_app_config(key).verbose_name
        else:
            label = items[0].label
        out.append(Section(label, items[0].url_name, key == namespace, items if len(items) > 1 else []))
    return out


def home_panel(fn: Callable, *, order: int = 100) -> None:
    if fn not in [f for _, f in _panels]:
        _panels.append((order, fn))
        _panels.sort(key=lambda p: p[0])


def panels_for(request) -> list[dict]:
    out = []
    for _, fn in _panels:
        panel = fn(request)
        if panel:
            out.append(panel)
    return out


def demo_seeder(fn: Callable, *, order: int = 100) -> None:
    name = f"{fn.__module__}.{fn.__name__}"
    if name not in [n for _, n, _ in _seeders]:
        _seeders.append((order, name, fn))
        _seeders.sort(key=lambda s: s[0])


def seeders() -> list[tuple[str, Callable]]:
    return [(n, f) for _, n, f in _seeders]


def seeder_orders() -> dict[str, int]:
    """``{name: order}`` of the demo seeders (``seed_demo --jobs`` plans its lanes with it)."""
    return {n: o for o, n, _ in _seeders}


# -- integrity checks run with the audit chain's verification (jinpin.auditchain.verify) ----------
_checks: list[Callable] = []
_check_messages: dict = {}


def integrity_check(fn: Callable, *, messages: dict) -> None:
    """``fn() -> list[dict]`` returns problems (``{"check", "code", **params}``); ``messages`` maps each code
    to a translatable sentence formatted with the problem's params."""
    if fn not in _checks:
        _checks.append(fn)
    _check_messages.update(messages)


def integrity_checks() -> list[Callable]:
    return list(_checks)


def integrity_messages() -> dict:
    return dict(_check_messages)
