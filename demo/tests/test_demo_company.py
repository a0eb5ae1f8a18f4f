"""`make run`'s second programme: a department store's card with ranks at three of the street's stores."""

from django.core.management import call_command

from points.models import Account, Entry, Lot, Participation
from ranks.models import MemberRank, RankRecord


def test_the_demo_gains_a_company_programme_with_ranks_at_some_stores(db, capsys):
    call_command("seed_demo", "--members", "200", "--stores", "8", "--months", "1")
    call_command("demo_admin", "--force")

    call_command("demo_company")
    call_command("demo_company")  # made once

    out = capsys.readouterr().out
    assert "東光百貨店カード (TOKO) at 3 stores" in out
    assert Participation.objects.filter(programme__code="TOKO").count() == 3
    # its purchases earned in both programmes, members moved up with the figures recorded
    assert Account.objects.filter(programme__code="TOKO").exists()
    earned = Entry.objects.filter(idempotency_key__startswith="demo-company-", kind=Entry.Kind.EARN)
    assert earned.count() == 180 and earned.filter(idempotency_key__contains="@").count() == 90
    assert set(earned.values_list("account__programme__code", flat=True)) == {"SHOTENGAI", "TOKO"}
    assert MemberRank.objects.filter(programme__code="TOKO", rank__name="ゴールド").exists()
    assert RankRecord.objects.filter(programme__code="TOKO").count() == MemberRank.objects.count()
    # the company-only campaign's points, and points sold at the desk
    assert Lot.objects.filter(merchant__isnull=False).exists()
    assert Lot.objects.filter(purchased=True).count() == 3
