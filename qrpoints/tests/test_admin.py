"""The back office: operators set up events and flyers, everyone allowed prints their posters, the secretariat
issues a store's counter code, and the claims are a read-only list."""

import subprocess

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from points.models import Funder
from points.tests.factories import StoreFactory
from qrpoints.models import Flyer, QrClaim, QrEvent, StoreVisitCode
from qrpoints.services import qr_scan, store_visit_code_current
from qrpoints.tests.factories import FlyerFactory, QrEventFactory, token_of

pytestmark = pytest.mark.django_db


def period(**fields):
    return {
        "valid_from_0": "2030-07-20",
        "valid_from_1": "10:00",
        "valid_until_0": "2030-07-22",
        "valid_until_1": "00:00",
        **fields,
    }


def event_form(programme, **fields):
    return period(
        programme=programme.pk, name="駅前夏祭り", points="300", max_claims="500", funder=Funder.SECRETARIAT
    ) | {key: value for key, value in fields.items()}


def test_an_operator_creates_an_event_and_the_service_audits_it(operator_client, programme, store):
    response = operator_client.post(
        reverse("admin:qrpoints_qrevent_add"), event_form(programme, funder=Funder.STORE, store=store.pk)
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    event = QrEvent.objects.get()
    assert (event.name, event.points, event.max_claims, event.funder, event.store) == (
        "駅前夏祭り",
        300,
        500,
        Funder.STORE,
        store,
    )
    assert event.created_by.username == "unyou"
    # One audit row, written by the service.
    assert AuditEvent.objects.filter(object_type="qrpoints.QrEvent", object_id=str(event.pk)).count() == 1


def test_a_store_funded_event_must_name_its_store(operator_client, programme):
    response = operator_client.post(reverse("admin:qrpoints_qrevent_add"), event_form(programme, funder=Funder.STORE))

    assert response.status_code == 200
    assert "ポイントを負担する店舗を選んでください。" in response.content.decode()
    assert not QrEvent.objects.exists()


def test_the_cap_cannot_go_below_the_claims_made(operator_client, programme, member):
    event = QrEventFactory(programme=programme, max_claims=5)
    qr_scan(member=member, token=token_of(event))

    response = operator_client.post(
        reverse("admin:qrpoints_qrevent_change", args=[event.pk]),
        event_form(programme, max_claims="0"),
    )

    assert response.status_code == 200
    assert QrEvent.objects.get(pk=event.pk).max_claims == 5


def test_a_flyer_takes_only_stores_of_its_programme(operator_client, programme, store):
    outsider = StoreFactory(name="よその店")
    url = reverse("admin:qrpoints_flyer_add")
    data = period(programme=programme.pk, name="秋のチラシ", points="50", funder=Funder.STORE)

    refused = operator_client.post(url, data | {"stores": [store.pk, outsider.pk]})
    created = operator_client.post(url, data | {"stores": [store.pk]})

    assert refused.status_code == 200 and "よその店" in refused.content.decode()
    assert created.status_code == 302
    flyer = Flyer.objects.get()
    assert list(flyer.stores.all()) == [store]


def test_the_posters_download_as_pdf_and_svg(secretariat_client, programme, tmp_path):
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300)

    pdf = secretariat_client.get(reverse("admin:qrpoints_qrevent_poster_pdf", args=[event.pk]))
    svg = secretariat_client.get(reverse("admin:qrpoints_qrevent_poster_svg", args=[event.pk]))

    assert pdf["Content-Type"] == "application/pdf"
    assert f'filename="qr-event-{event.pk}.pdf"' in pdf["Content-Disposition"]
    (tmp_path / "p.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "p.pdf"), "-"], capture_output=True, text=True).stdout
    assert "駅前夏祭り" in text and "300 ポイントプレゼント" in text
    assert svg["Content-Type"] == "image/svg+xml" and b"<path" in svg.content


def test_the_event_page_links_its_posters(secretariat_client, programme):
    event = QrEventFactory(programme=programme)

    page = secretariat_client.get(reverse("admin:qrpoints_qrevent_change", args=[event.pk])).content.decode()

    assert reverse("admin:qrpoints_qrevent_poster_pdf", args=[event.pk]) in page
    assert "/my/qr/e." in page


def test_issuing_a_stores_visit_code_retires_the_old_and_opens_the_new(secretariat_client, store):
    old = store_visit_code_current(store=store)

    response = secretariat_client.post(reverse("admin:qrpoints_storevisitcode_add"), {"store": store.pk})

    new = StoreVisitCode.objects.get(store=store, retired_at__isnull=True)
    assert new != old
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:qrpoints_storevisitcode_change", args=[new.pk])
    assert StoreVisitCode.objects.get(pk=old.pk).retired_at is not None
    assert AuditEvent.objects.filter(object_type="qrpoints.StoreVisitCode", object_id=str(new.pk)).count() == 1


def test_a_retired_codes_poster_is_not_printed(secretariat_client, store, staff):
    from qrpoints.services import store_visit_code_issue

    old = store_visit_code_current(store=store)
    store_visit_code_issue(store=store, staff=staff)

    response = secretariat_client.get(reverse("admin:qrpoints_storevisitcode_poster_pdf", args=[old.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:qrpoints_storevisitcode_change", args=[old.pk])
    assert "使用中のコードを印刷してください" in response.content.decode()


def test_the_claims_list_shows_who_claimed_and_is_read_only(secretariat_client, programme, store, member):
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300, funder=Funder.STORE, store=store)
    qr_scan(member=member, token=token_of(event))
    FlyerFactory(programme=programme, stores=[store])

    page = secretariat_client.get(reverse("admin:qrpoints_qrclaim_changelist")).content.decode()

    assert member.pseudonym in page and "駅前夏祭り" in page and "300 pt" in page and store.name in page
    assert secretariat_client.get(reverse("admin:qrpoints_qrclaim_add")).status_code == 403
    claim = QrClaim.objects.get()
    assert secretariat_client.post(reverse("admin:qrpoints_qrclaim_delete", args=[claim.pk])).status_code == 403


def test_the_member_page_shows_the_claims_and_flyer_rights(secretariat_client, programme, store, member):
    event = QrEventFactory(programme=programme, name="駅前夏祭り", points=300)
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", stores=[store])
    qr_scan(member=member, token=token_of(event))
    qr_scan(member=member, token=token_of(flyer))

    page = secretariat_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()

    section = page.split('id="member-qr-points"', 1)[1].split("</div>", 1)[0]
    assert "駅前夏祭り" in section and "+300 pt" in section
    assert "秋のチラシ" in section and "来店待ち" in section


def test_the_lists_count_claims_rights_and_credits(secretariat_client, programme, store):
    from members.tests.factories import MemberFactory
    from qrpoints.services import store_visit_url

    event = QrEventFactory(programme=programme, name="駅前夏祭り", max_claims=40)
    flyer = FlyerFactory(programme=programme, name="秋のチラシ", stores=[store])
    visit = store_visit_url(store).rsplit("/my/qr/", 1)[1].rstrip("/")
    first, second = MemberFactory(), MemberFactory()
    for member in (first, second):
        qr_scan(member=member, token=token_of(event))
        qr_scan(member=member, token=token_of(flyer))
    qr_scan(member=first, token=visit)

    events = secretariat_client.get(reverse("admin:qrpoints_qrevent_changelist")).content.decode()
    flyers = secretariat_client.get(reverse("admin:qrpoints_flyer_changelist")).content.decode()

    assert "2 / 40" in events
    row = flyers.split("秋のチラシ", 1)[1].split("</tr>", 1)[0]
    assert "2 / 上限なし" in row
    assert '<td class="field-credited">1</td>' in row
