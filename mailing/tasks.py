"""Background work of mail to members (django-q2): a mailing's sending, the minute's check that starts
scheduled mailings ("mailing-send-due"), and the monthly reminder of expiring points
("mailing-expiry-reminders", the 1st of each month at 10:00 Tokyo)."""

from django_q.tasks import async_task

from mailing.services import expiry_reminders_send, mailing_send_run, mailings_send_due


def send_mailing(mailing_id: int) -> str:
    outcome = mailing_send_run(mailing_id=mailing_id)
    if outcome == "more":
        # A long mailing goes on in a fresh task, well inside the cluster's timeout.
        async_task("mailing.tasks.send_mailing", mailing_id, task_name=f"mailing {mailing_id}")
    return outcome


def send_due_mailings() -> list[int]:
    return mailings_send_due()


def send_expiry_reminders() -> list[int]:
    return [mailing.pk for mailing in expiry_reminders_send()]
