"""The documented sample set (docs/legacy-sample/) as the tests use it, and what "nothing changed" compares."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core import serializers

from legacy.formats import BytesSource

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "legacy-sample"
# The sample's figures (docs/imports.md says the same).
SAMPLE_POINTS = 4_130


def sample_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in SAMPLE.glob("*.csv")}


def source(files: dict[str, bytes]) -> BytesSource:
    return BytesSource(files, label="test")


def edited(files: dict[str, bytes], name: str, old: str, new: str) -> dict[str, bytes]:
    """The files with one text replaced in one of them (which must contain it)."""
    text = files[name].decode("utf-8")
    assert old in text, (name, old)
    return {**files, name: text.replace(old, new).encode("utf-8")}


def everything() -> dict[str, str]:
    """Every row of the apps an import writes to, serialised."""
    found = {}
    for app in ("members", "points", "ranks", "legacy", "audit"):
        for model in apps.get_app_config(app).get_models():
            found[model._meta.label] = serializers.serialize("json", model.objects.order_by("pk"))
    return found
