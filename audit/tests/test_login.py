import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def staff(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_user(username="jimukyoku", password=PASSWORD, is_staff=True)


def test_admin_login_with_the_right_password_works(client, staff):
    # when
    response = client.post(LOGIN, {"username": "jimukyoku", "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_login_is_locked_after_too_many_failures(client, staff, settings):
    # given
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "jimukyoku", "password": "wrong"})
    # when
    response = client.post(LOGIN, {"username": "jimukyoku", "password": PASSWORD})
    # then
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # back to the login page


def test_admin_lockout_page_says_in_japanese_when_to_try_again(client, staff, settings):
    # given
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "jimukyoku", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="ja")
    # when
    response = client.post(LOGIN, {"username": "jimukyoku", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="ja")
    # then the admin's own page, not a bare line
    assert response.status_code == 429
    page = response.content.decode()
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    assert "ログインを一時停止しています" in page
    assert f"{minutes}分後" in page
    assert "事務局の管理者" in page
    assert 'id="site-name"' in page  # the admin's header


def test_admin_login_is_not_locked_just_before_the_limit(client, staff, settings):
    # given
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "jimukyoku", "password": "wrong"})
    # when
    response = client.post(LOGIN, {"username": "jimukyoku", "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
