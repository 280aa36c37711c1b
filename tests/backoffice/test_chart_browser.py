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
