import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_demo(settings):
    # The command runs on a developer's machine, in DEBUG; the test runner turns DEBUG off.
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


LOGIN_LINE = re.compile(r"Admin login: http://127\.0\.0\.1:8000/admin/  user: admin  password: (\S+)")


def run_demo_admin(*args) -> str:
    out = io.StringIO()
    call_command("demo_admin", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = LOGIN_LINE.search(output)
    assert match, output
    return match.group(1)


def test_demo_admin_prints_a_password_that_logs_admin_in(client):
    # when
    password = printed_password(run_demo_admin())
    # then
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_demo_admin_makes_a_new_password_each_run():
    # given
    first = printed_password(run_demo_admin())
    # when
    second = printed_password(run_demo_admin())
    # then
    admin = get_user_model().objects.get(username="admin")
    assert first != second
    assert admin.check_password(second)
    assert not admin.check_password(first)


@pytest.mark.parametrize(
    ("username", "group", "superuser"),
    [
        ("admin", "secretariat", True),
        ("jimukyoku", "secretariat", False),
        ("unyou", "operator", False),
        ("kansa", "auditor", False),
    ],
)
def test_demo_admin_creates_staff_users_in_their_roles(username, group, superuser):
    # when
    output = run_demo_admin()
    # then
    user = get_user_model().objects.get(username=username)
    assert f"user: {username}  password: {printed_password(output)}" in output
    assert user.check_password(printed_password(output))
    assert user.is_staff
    assert user.is_superuser is superuser
    assert list(user.groups.values_list("name", flat=True)) == [group]


def test_demo_admin_refuses_to_reset_passwords_when_debug_is_off(settings):
    # given
    settings.DEBUG = False
    # when / then
    with pytest.raises(CommandError):
        run_demo_admin()
    assert not get_user_model().objects.filter(username="admin").exists()
