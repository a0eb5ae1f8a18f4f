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


def test_admin_login_is_not_locked_just_before_the_limit(client, staff, settings):
    # given
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "jimukyoku", "password": "wrong"})
    # when
    response = client.post(LOGIN, {"username": "jimukyoku", "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
