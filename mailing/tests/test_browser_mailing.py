"""An operator writes a mail to the street's women in a real browser, sees how many it reaches, sends it, and
finds each of them in the send log. The queue runs in sync mode, so the sending happens within the request
that starts it."""

import pytest
from django.core import mail

from loyalty.roles import OPERATOR
from mailing.models import Mailing
from mailing.tests.factories import member_of, withdraw

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_writes_a_mail_sees_its_reach_sends_it_and_reads_the_send_log(
    page, live_server, admin_login, programme, sync_tasks
):
    women = [member_of(programme, gender="female", name=f"山田 花子{n}") for n in range(6)]
    withdraw(member_of(programme, gender="female"))
    member_of(programme, gender="male")
    admin_login("unyou", role=OPERATOR)

    # Writes the mail and its segment
    page.goto(f"{live_server.url}/admin/mailing/mailing/add/")
    page.fill("#id_subject", "{{ programme }} 年末セールのお知らせ")
    page.fill("#id_body", "{{ name }} 様\n\nポイント残高は {{ balance }} ポイントです。")
    page.check("#id_genders input[value=female]")
    page.click("input[name=_continue]")

    # Sees whom it reaches: the six women who agreed (not the one who withdrew, not the man)
    page.wait_for_selector("#mailing-reach")
    assert page.inner_text("#mailing-reach") == "6名"

    # Sends it now, after the confirmation
    page.click("#mailing-send")
    assert "6名に送信しますか" in page.inner_text("#mailing-question")
    page.click("#mailing-send-confirm")
    page.wait_for_selector(".messagelist .success")
    assert "送信 6件、スキップ 0件、失敗 0件" in page.inner_text("#mailing-progress")

    # And reads the send log
    page.click("#mailing-send-log")
    page.wait_for_selector("#result_list")
    log = page.inner_text("#result_list")
    assert all(member.pseudonym in log for member in women)
    assert log.count("送信済み") == 6
    assert sorted(message.to[0] for message in mail.outbox) == sorted(member.email for member in women)
    assert Mailing.objects.get().status == Mailing.Status.SENT
