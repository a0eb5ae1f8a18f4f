"""The monthly reminder of points expiring next month: to the programme's members who have such points and
whose mail magazine consent holds, once a month, on the schedule the migration made."""

import datetime

import pytest
from django.core import mail
from django_q.models import Schedule

from mailing.models import ExpiryReminder, Mailing
from mailing.selectors import mailing_recipients
from mailing.services import expiry_reminders_send, mailing_expiring_reminder
from mailing.tests.factories import member_of, next_month, points_expiring, withdraw
from points.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

DECEMBER = datetime.date(2026, 12, 1)
JANUARY = datetime.date(2027, 1, 1)


@pytest.fixture
def members(programme):
    """Who has what in January: 800 points expiring on 10 and 31 January, 300 expiring in February, the
    same without consent, and nothing expiring."""
    expiring = member_of(programme, name="山田 花子")
    points_expiring(expiring, programme, 500, datetime.date(2027, 1, 31))
    points_expiring(expiring, programme, 300, datetime.date(2027, 1, 10))
    points_expiring(expiring, programme, 200, datetime.date(2027, 5, 31))
    in_february = member_of(programme)
    points_expiring(in_february, programme, 300, datetime.date(2027, 2, 28))
    no_consent = member_of(programme)
    points_expiring(no_consent, programme, 400, datetime.date(2027, 1, 31))
    withdraw(no_consent)
    member_of(programme)
    return {"expiring": expiring, "in_february": in_february}


def test_the_reminder_goes_to_the_consenting_members_with_points_expiring_next_month(
    programme, members, sync_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mailing = mailing_expiring_reminder(programme=programme, month=DECEMBER)

    (message,) = mail.outbox
    assert message.to == [members["expiring"].email]
    assert message.subject == f"【{programme.name}】来月 800 ポイントが有効期限を迎えます"
    assert message.body.startswith("山田 花子 様\n")
    assert "800 ポイントが、来月有効期限を迎えます（最も早い期限: 2027/01/10）" in message.body
    assert "現在のポイント残高は 1,000 ポイントです" in message.body
    mailing.refresh_from_db()
    assert (mailing.status, mailing.reminder_month, mailing.expiring_next_month) == (
        Mailing.Status.SENT,
        DECEMBER,
        True,
    )


def test_the_reminder_of_a_month_is_sent_once(programme, members, sync_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = mailing_expiring_reminder(programme=programme, month=DECEMBER)
    with django_capture_on_commit_callbacks(execute=True):
        again = mailing_expiring_reminder(programme=programme, month=datetime.date(2026, 12, 15))

    assert again.pk == first.pk
    assert len(mail.outbox) == 1
    assert Mailing.objects.filter(programme=programme).count() == 1


def test_the_programmes_own_text_is_used(programme, members, sync_tasks, django_capture_on_commit_callbacks):
    ExpiryReminder.objects.create(
        programme=programme, subject="失効のお知らせ", body="{{ name }} 様 {{ expiring_points }}pt が失効します"
    )

    with django_capture_on_commit_callbacks(execute=True):
        mailing_expiring_reminder(programme=programme, month=DECEMBER)

    (message,) = mail.outbox
    assert message.subject == "失効のお知らせ"
    assert message.body.startswith("山田 花子 様 800pt が失効します")


def test_the_monthly_run_sends_only_the_active_reminders_of_this_month(
    programme, members, sync_tasks, django_capture_on_commit_callbacks
):
    ExpiryReminder.objects.create(programme=programme, subject="失効のお知らせ", body="{{ expiring_points }}")
    quiet = ProgrammeFactory(code="QUIET")
    ExpiryReminder.objects.create(programme=quiet, active=False, subject="x", body="x")
    # A member of the quiet programme with points expiring next month
    points_expiring(member_of(quiet), quiet, 100, next_month(datetime.date(2026, 12, 20)))

    with django_capture_on_commit_callbacks(execute=True):
        sent = expiry_reminders_send(today=datetime.date(2026, 12, 1))

    assert [mailing.programme for mailing in sent] == [programme]
    assert [message.to for message in mail.outbox] == [[members["expiring"].email]]
    assert not Mailing.objects.filter(programme=quiet).exists()


def test_a_reminder_in_january_counts_februarys_points(programme, members):
    mailing = mailing_expiring_reminder(programme=programme, month=JANUARY)

    assert set(mailing_recipients(mailing).values_list("pk", flat=True)) == {members["in_february"].pk}


def test_the_schedule_runs_the_reminders_monthly_in_the_morning():
    schedule = Schedule.objects.get(name="mailing-expiry-reminders")

    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "mailing.tasks.send_expiry_reminders",
        Schedule.MONTHLY,
        -1,
    )
    assert schedule.next_run.day == 1 and schedule.next_run.hour == 1  # 10:00 Tokyo is 01:00 UTC
    due = Schedule.objects.get(name="mailing-send-due")
    assert (due.func, due.schedule_type, due.minutes) == ("mailing.tasks.send_due_mailings", Schedule.MINUTES, 1)
