"""A long admin list says how long it is: counted up to a bound, estimated by PostgreSQL (約) above it,
never with a full COUNT(*) of a big table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common import admin as common_admin
from members.models import Member

pytestmark = pytest.mark.django_db
MEMBERS = "/admin/members/member/"


@pytest.fixture
def members_60():
    Member.objects.bulk_create(Member() for _ in range(60))


def test_the_member_list_says_how_many_members_there_are(superuser_client, members_60):
    # when
    response = superuser_client.get(MEMBERS, HTTP_ACCEPT_LANGUAGE="ja")
    # then the true number, not the 51 rows looked at
    page = response.content.decode()
    assert response.status_code == 200
    assert "60件" in page
    assert "51" not in page.split('class="paginator"')[1].split("</p>")[0]


def test_a_filtered_list_counts_what_the_filter_keeps(superuser_client, members_60):
    # given
    Member.objects.filter(pk__in=Member.objects.order_by("pk").values("pk")[:7]).update(status=Member.Status.SUSPENDED)
    # when
    response = superuser_client.get(MEMBERS, {"status__exact": Member.Status.SUSPENDED}, HTTP_ACCEPT_LANGUAGE="ja")
    # then
    assert "7件" in response.content.decode()


def test_a_list_longer_than_the_bound_is_not_counted_in_full(superuser_client, members_60, monkeypatch):
    # given a bound below the list's length
    monkeypatch.setattr(common_admin, "EXACT_COUNT_UP_TO", 20)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = superuser_client.get(MEMBERS, HTTP_ACCEPT_LANGUAGE="ja")
    # then no statement counts the whole table
    page = response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")]
    assert counts and all("LIMIT 21" in sql for sql in counts), counts
    if connection.vendor == "postgresql":
        assert "約 " in page  # the planner's estimate, marked
    else:
        assert "20件以上" in page


def test_postgresql_estimates_a_big_table_and_marks_it(superuser_client, members_60, monkeypatch, on_postgres):
    if not on_postgres:
        pytest.skip("PostgreSQL's planner estimate")
    # given PostgreSQL's statistics for the table
    monkeypatch.setattr(common_admin, "EXACT_COUNT_UP_TO", 20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
    # when
    response = superuser_client.get(MEMBERS, HTTP_ACCEPT_LANGUAGE="ja")
    # then
    assert "約 60件" in response.content.decode()


def test_a_list_longer_than_the_bound_still_pages_through_every_row(superuser_client, members_60, monkeypatch):
    # given a bound below the list's length (50 members a page)
    monkeypatch.setattr(common_admin, "EXACT_COUNT_UP_TO", 20)
    # when
    first = superuser_client.get(MEMBERS).content.decode()
    second = superuser_client.get(MEMBERS, {"p": 2}).content.decode()
    # then the first page offers the second, which holds the last ten
    assert 'href="?p=2"' in first
    assert second.count('class="action-checkbox"') == 10
