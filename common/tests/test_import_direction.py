"""Arrows point one way: an app's code imports only the apps below it (docs/architecture.md), never one
beside or above it. The imports that still point the wrong way are named below, each with what it is for,
to be taken out; a new one fails here, and so does one taken out but still named."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lowest first; an app may import the apps of the layers before its own.
LAYERS = (
    ("common",),
    ("audit",),
    ("stores", "members"),
    ("points",),
    ("ranks",),
    # Card-linked offers: billing's close reads what they paid.
    ("offers",),
    ("campaigns", "coupons", "rallies", "billing", "exchange", "qrpoints"),
    # Reads the promotions and billing's settings; the portal and the dashboard build on it.
    ("analytics",),
    ("till", "portal", "lifecycle", "legacy", "donations", "mailing"),
    ("api",),
    ("membersite",),
    ("loyalty",),
    ("demo",),
)
LAYER_OF = {app: number for number, apps in enumerate(LAYERS) for app in apps}
STILL_THE_WRONG_WAY: dict[tuple[str, str], str] = {}


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found & set(LAYER_OF)


def wrong_way() -> dict[tuple[str, str], list[str]]:
    """(app, app it imports) for every import of an app beside or above, with the files that do it."""
    found: dict[tuple[str, str], list[str]] = {}
    for app, layer in LAYER_OF.items():
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            for other in imported_apps(path) - {app}:
                if LAYER_OF[other] >= layer:
                    found.setdefault((app, other), []).append(str(path.relative_to(ROOT)))
    return found


def test_every_app_is_in_a_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"loyalty"}
    assert apps == set(LAYER_OF)


def test_apps_import_only_the_apps_below_them():
    found = wrong_way()

    new = {pair: files for pair, files in found.items() if pair not in STILL_THE_WRONG_WAY}
    assert not new, f"imports of an app beside or above: {new}"
    gone = set(STILL_THE_WRONG_WAY) - set(found)
    assert not gone, f"no longer imported the wrong way; take them off the list: {sorted(gone)}"
