"""Every list the secretariat works in fits a 1,366 px screen: no column cut off, no sideways scrolling."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)

LISTS = [
    "/admin/members/member/",
    "/admin/members/card/",
    "/admin/stores/store/",
    "/admin/stores/merchant/",
    "/admin/stores/terminal/",
    "/admin/points/entry/",
    "/admin/points/account/",
    "/admin/points/lot/",
    "/admin/billing/statement/",
    "/admin/billing/period/",
    "/admin/campaigns/campaign/",
    "/admin/coupons/coupontemplate/",
    "/admin/coupons/coupon/",
    "/admin/rallies/rally/",
    "/admin/exchange/exchange/",
    "/admin/exchange/item/",
    "/admin/audit/auditevent/",
]


def test_every_main_list_fits_a_1366_pixel_screen(page, live_server, admin_login):
    # given the demo street, with a month closed and statements issued
    call_command("seed_demo", "--members", "60", "--stores", "8", "--months", "2", stdout=open("/dev/null", "w"))
    call_command("demo_billing", "--force", stdout=open("/dev/null", "w"))
    admin_login()
    page.set_viewport_size({"width": 1366, "height": 768})
    too_wide = {}
    for url in LISTS:
        # when
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector("#result_list, .paginator")
        # then
        # (the admin scrolls a wide table inside its box: a column out of that box is cut off too)
        width = page.evaluate(
            "(() => { const table = document.querySelector('#result_list');"
            " const page = document.documentElement.scrollWidth;"
            " if (!table) return page;"
            " const box = table.parentElement.getBoundingClientRect();"
            " return Math.max(page, Math.round(box.left + table.scrollWidth)"
            " + Math.max(0, 1366 - Math.round(box.right))); })()"
        )
        if width > 1366:
            too_wide[url] = width
    assert not too_wide, f"lists wider than the screen: {too_wide}"


def test_the_member_import_preview_fits_a_1366_pixel_screen(page, live_server, admin_login, tmp_path):
    # given a member file with every column, long values included
    from members.resources import MemberResource

    headers = MemberResource().template_headers()
    values = {
        "氏名": "山田 花子",
        "氏名（フリガナ）": "ヤマダ ハナコ",
        "住所": "東京都千代田区丸の内一丁目一番一号 丸の内ビルディング 三十五階 三五〇一号室",
        "電話番号": "090-1234-5678",
        "メールアドレス": "hanako.yamada.long.address@example.co.jp",
        "郵便番号": "100-0005",
        "同意した規約バージョン": "2026-04",
        "状態": "active",
    }
    path = tmp_path / "members.csv"
    rows = [",".join(headers), ",".join(values.get(header, "") for header in headers)]
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig")
    admin_login()
    page.set_viewport_size({"width": 1366, "height": 768})
    # when the secretariat previews it
    page.goto(f"{live_server.url}/admin/members/member/import/")
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", index=1)
    page.click("input[type=submit]")
    page.wait_for_selector("table.import-preview")
    # then nothing runs off the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
