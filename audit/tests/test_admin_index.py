"""The admin's index as each role sees it: the daily work first, the system screens last under Japanese
names, and only for those who need them."""

import re

import pytest

pytestmark = pytest.mark.django_db


def app_names(client) -> list[str]:
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    return [re.sub(r"<[^>]+>", "", name).strip() for name in re.findall(r"<caption>(.*?)</caption>", page, re.S)]


def test_the_secretariat_sees_members_first_and_the_system_screens_last(secretariat_client):
    names = app_names(secretariat_client)
    system = ["システム：ユーザーとグループ", "システム：バックグラウンド処理", "システム：ログイン試行とロック"]
    assert names[-3:] == system
    assert names[0] == "会員・カード"
    assert not any("Axes" in name or "Django Q" in name.replace("_", " ") for name in names)


def test_operators_and_auditors_do_not_see_the_system_screens(operator_client, auditor_client):
    for client in (operator_client, auditor_client):
        names = app_names(client)
        assert names
        assert not [name for name in names if name.startswith("システム")]
