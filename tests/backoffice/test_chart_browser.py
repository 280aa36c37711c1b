"""The curve page in headless Chromium: uPlot draws a canvas, without JavaScript errors."""

from datetime import date

from tests.factories import at, make_operator

SEED = date(2025, 9, 22)


def test_chart_renders(browser, live_server, client, transactional_db, make_contract, make_consigne, load_curves):
    contract = make_contract("BOAXXXXX")
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
    load_curves("BOAXXXXX", SEED, overrides={at(SEED, 12): 0.4})
    make_operator(client)
    session = client.cookies["sessionid"].value
    errors = []
    context = browser.new_context()
    try:
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{live_server.url}/backoffice/contracts/BOAXXXXX/curve/?day=2025-09-22")
        page.wait_for_selector("#curve-chart canvas", timeout=10_000)
        box = page.locator("#curve-chart canvas").bounding_box()
        legend = page.locator(".u-legend").inner_text()
    finally:
        context.close()
    assert errors == []
    assert box["width"] >= 600 and box["height"] > 100
    assert "Pas en dépassement" in legend


def test_chart_axes_in_the_page_language_and_in_paris_time(
    browser, live_server, client, transactional_db, make_contract, make_consigne, load_curves
):
    """A browser in New York set to US English still shows a French page's chart in French and in Paris time."""
    contract = make_contract("BOAXXXXX")
    make_consigne(contract, SEED, [(at(SEED, 11, 55), at(SEED, 18), 1.0)])
    load_curves("BOAXXXXX", SEED, overrides={at(SEED, 12): 0.4})
    make_operator(client)
    session = client.cookies["sessionid"].value
    context = browser.new_context(
        locale="en-US", timezone_id="America/New_York", viewport={"width": 1280, "height": 900}
    )
    try:
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/backoffice/contracts/BOAXXXXX/curve/?day=2025-09-22")
        page.wait_for_selector("#curve-chart canvas", timeout=10_000)
        ticks = page.evaluate("document.getElementById('curve-chart').chart.axes[0]._values")
        box = page.locator("#curve-chart .u-over").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the cursor at midday
        legend = page.locator(".u-legend").inner_text()
        page.goto(f"{live_server.url}/backoffice/contracts/BOAXXXXX/curve/?month=2025-09")
        page.wait_for_selector("#curve-chart canvas", timeout=10_000)
        month_ticks = page.evaluate("document.getElementById('curve-chart').chart.axes[0]._values")
    finally:
        context.close()
    assert ticks[0] == "00:00\n22/09", ticks  # midnight in Paris, not 18:00 in New York
    assert all(":" in t and "M" not in t for t in ticks), ticks  # 24-hour clock, no AM/PM
    assert "22/09/2025 12:00" in legend or "22/09/2025 11:55" in legend, legend
    assert month_ticks[0] == "01/09" and all(t.endswith("/09") for t in month_ticks), month_ticks  # day/month
