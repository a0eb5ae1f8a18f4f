"""A Japanese terminal vendor reads the terminal API's documentation in a real browser: the table of contents
takes them to an operation, a schema opens where a link lands, and English is one click away."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_vendor_finds_an_operation_and_its_request_schema_from_the_contents(page, live_server):
    # Given a browser speaking Japanese on the documentation
    page.goto(f"{live_server.url}/api/v1/docs")
    assert page.locator("h2#overview").inner_text() == "概要"
    schema_fields = page.locator("#schema-SpendRequest + table")
    assert not schema_fields.is_visible()  # the schemas are folded, so the page is not one endless scroll

    # When they follow the contents to spending points
    page.locator("nav#toc").get_by_role("link", name="ポイントを利用する").click()

    # Then the operation is on screen, its answers described in Japanese
    spend = page.locator("section#spend")
    assert page.url.endswith("#spend") and spend.locator("h3").is_visible()
    spend.locator("details.codes", has_text="insufficient_points").locator("summary").click()
    assert spend.get_by_text("残高が使用ポイントより少ないです。").is_visible()

    # When they follow the request body's schema link
    spend.get_by_role("link", name="SpendRequest").first.click()

    # Then the folded schema opens on its fields
    schema_fields.wait_for(state="visible")
    assert "利用するポイント" in schema_fields.inner_text()

    # When they switch to English
    page.locator("nav#toc").get_by_role("link", name="English").click()

    # Then the same page reads in English
    page.wait_for_url("**/docs?lang=en")
    assert page.locator("h2#overview").inner_text() == "Overview"
    assert page.locator("nav#toc").get_by_role("link", name="Spend points").is_visible()
