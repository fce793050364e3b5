"""An in-person ID check (实名) on a phone, in Chinese: at the service hall the mediator
opens the case on a phone, sees the defendant's representative at "mobile number
verified", mistypes the ID number and is told which character is wrong, then records
the check with a photo of the card; the badge turns to "real name verified", by whom
and when. The representative then sees his own level on his identity page."""

from __future__ import annotations

import pytest

from mediation.models import IdentityCheck, IdentityLevel, Participant, User
from tests.e2e.browser import off_the_loop
from tests.e2e.test_journeys import make_case_with_parties, make_court
from tests.identities import png_bytes, valid_id_number, verify_phone

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ID_NUMBER = valid_id_number("11010719780905151")


def test_the_mediator_records_an_in_person_id_check_on_a_phone(journey, tmp_path):
    journey.language = "zh-hans"
    t = journey.t
    court = off_the_loop(make_court)
    world = off_the_loop(make_case_with_parties, court, tag="-identity")
    representative = off_the_loop(verify_phone, world.defendant, "+8613800138002")
    for person in (court.mediator, representative):
        User.objects.filter(pk=person.pk).update(language="zh-hans")
    participant = Participant.active.get(case=world.case, user=representative)
    journey.data += ["+86", "138", "8002"]

    mediator = journey.person("mediator", phone=True)
    mediator.sign_in(court.mediator)
    mediator.goto(f"/cases/{world.case.pk}/", "case page with identity levels")
    row = mediator.page.locator(f'[data-participant="{participant.pk}"]')
    assert row.locator("[data-identity-level]").inner_text() == t("Mobile number verified")
    plaintiff_row = mediator.page.locator(f'[data-participant]:not([data-participant="{participant.pk}"])')
    assert plaintiff_row.locator("[data-identity-level]").inner_text() == t("Account only")

    # A mistyped last character: the page says the check digit is wrong, nothing is kept.
    form = row.locator("[data-identity-check-form]")
    form.locator("summary").click()
    form.locator("input[name$=full_name]").fill("赵强")
    wrong = ID_NUMBER[:17] + ("1" if ID_NUMBER[17] == "0" else "0")
    form.locator("input[name$=id_number]").fill(wrong)
    scan = tmp_path / "身份证.png"
    scan.write_bytes(png_bytes((600, 380)))
    form.locator("input[type=file]").set_input_files(str(scan))
    mediator.submit(form.locator("button[type=submit]"), "wrong ID number", full_page=True)
    assert (
        t(
            "The last character of the ID number does not match the others (its check digit is wrong): "
            "look for a mistyped digit."
        )
        in mediator.text()
    )
    assert not IdentityCheck.objects.exists()
    # The page opens at the form, the error by the field.
    assert mediator.page.url.endswith(f"#participant-{participant.pk}")
    assert mediator.page.locator(f"#participant-{participant.pk} .errorlist").is_visible()

    # Corrected, with the photo of the card again: recorded.
    row = mediator.page.locator(f'[data-participant="{participant.pk}"]')
    form = row.locator("[data-identity-check-form]")
    form.locator("input[name$=id_number]").fill(ID_NUMBER)
    form.locator("input[type=file]").set_input_files(str(scan))
    mediator.submit(form.locator("button[type=submit]"), "ID check recorded")
    row = mediator.page.locator(f'[data-participant="{participant.pk}"]')
    assert row.locator("[data-identity-level]").inner_text() == t("Real name verified")
    details = row.locator("[data-identity-details]").inner_text()
    assert t("In person, by court staff") in details and "刘洋" in details
    assert row.locator("[data-identity-check-form]").count() == 0
    with mediator.page.expect_download() as download:
        row.locator("[data-identity-evidence]").click()
    assert download.value.suggested_filename.endswith(".png")

    checked = User.objects.get(pk=representative.pk)
    assert checked.identity_level == IdentityLevel.REAL_NAME
    assert checked.real_name_verified_by_id == court.mediator.pk

    # The representative sees his own level, his ID number masked.
    own = journey.person("representative", phone=True)
    own.sign_in(representative)
    own.goto("/account/identity/", "my identity")
    assert own.page.locator("[data-identity-level]").inner_text() == t("Real name verified")
    assert ID_NUMBER not in own.text()
    assert ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:] in own.text()
