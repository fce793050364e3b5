"""The agreement a lawyer and a clerk accept, drafted on one page: the parties are
原告/被告 as on every other page, the default and acceleration clause for instalments
is stored as codes and read in each reader's language, every term is saved in one
submission (or none), the agreement's page shows the terms, and the signatures never
stand alone on the last page."""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from documents.agreement_rendering import agreed_clauses, agreement_document_context, preview_html
from documents.agreement_rules import required_slots
from documents.models import AgreementVersion
from documents.rendering import render_pdf
from documents.services import agreements
from documents.services.agreement_content import parties_snapshot
from mediation.models import AuditEntry
from tests.cases import make_case
from tests.documents.test_agreements import defendant_party, draft, fresh, payment_term, plaintiff_party, sign

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CLAUSE = {"enabled": True, "grace_days": 10, "penalty": "fixed", "amount": "20000"}


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"], agent_authority=True)


def instalments(world, count=3) -> list[dict]:
    return [payment_term(world, amount="100000", due_date=f"2027-{month:02d}-15") for month in range(1, count + 1)]


def save(agreement, world, *, terms, default_clause=None, facts="事实。"):
    return agreements.update_draft(
        agreement=fresh(agreement),
        actor=world.mediator,
        facts=facts,
        terms=terms,
        costs="调解不收费。",
        effectiveness="各方签章后生效。",
        judicial_confirmation=True,
        default_clause=default_clause,
    )


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# One designation everywhere ------------------------------------------------------------------


def test_the_agreement_names_the_parties_plaintiff_and_defendant_in_both_languages(world):
    agreement = draft(world)
    plaintiff, defendant = plaintiff_party(world).name, defendant_party(world).name

    chinese = preview_html(agreement)
    assert f"原告：</strong>{plaintiff}" in chinese
    assert f"被告：</strong>{defendant}" in chinese
    assert "申请人" not in chinese and "被申请人" not in chinese

    with override_settings(DOCUMENT_LANGUAGE="en"):
        english = preview_html(agreement)
    assert f"Plaintiff：</strong>{plaintiff}" in english
    assert f"Defendant：</strong>{defendant}" in english
    assert "Applicant" not in english and "Respondent" not in english
    assert f"Plaintiff: {plaintiff}" in english  # the signature place


def test_the_agreement_and_signing_pages_name_the_parties_as_the_case_page_does(client, world):
    agreement = draft(world)
    agreements.lock_agreement(agreement=fresh(agreement), actor=world.mediator)
    plaintiff = plaintiff_party(world).name

    client.force_login(world.plaintiff)
    case_page = page_text(client.get(reverse("case_detail", args=[world.case.pk]), **ZH))
    assert "原告" in case_page
    detail = page_text(client.get(reverse("agreement_detail", args=[agreement.pk]), **ZH))
    assert f"原告：{plaintiff}" in detail
    assert "申请人" not in detail

    sign(agreement, world.mediator)
    sign_page = page_text(client.get(reverse("agreement_sign", args=[agreement.pk]), **ZH))
    assert f"原告：{plaintiff}" in sign_page
    english = page_text(client.get(reverse("agreement_sign", args=[agreement.pk]), **EN))
    assert f"Plaintiff: {plaintiff}" in english


# The default and acceleration clause ----------------------------------------------------------


def test_the_default_clause_is_stored_as_codes_and_read_in_each_language(world):
    agreement = draft(world)
    version = save(agreement, world, terms=instalments(world), default_clause=CLAUSE)

    assert version.content["default_clause"] == {
        "enabled": True,
        "grace_days": 10,
        "penalty": "fixed",
        "amount": "20000.00",
    }
    parties = {plaintiff_party(world).pk: "甲公司", defendant_party(world).pk: "乙公司"}
    with translation.override("zh-hans"):
        chinese = agreed_clauses(version.content, parties)
    with translation.override("en"):
        english = agreed_clauses(version.content, parties)
    assert len(chinese) == len(english) == 4
    assert chinese[3] == (
        "乙公司如有上述任何一期款项逾期超过10日或未足额支付，剩余未付款项全部提前到期，"
        "甲公司有权就全部未付款项申请强制执行。乙公司并应向甲公司支付违约金人民币20,000.00元。"
    )
    assert english[3] == (
        "If 乙公司 pays any instalment above more than 10 days late or not in full, the whole unpaid balance "
        "becomes due at once, and 甲公司 may apply for enforcement of all of it. 乙公司 also pays 甲公司 "
        "liquidated damages of RMB 20,000.00 yuan."
    )


def test_the_default_clause_with_interest_and_no_grace(world):
    agreement = draft(world)
    clause = {"enabled": True, "grace_days": "", "penalty": "interest", "rate": "7.5"}
    version = save(agreement, world, terms=instalments(world, 2), default_clause=clause)
    parties = {plaintiff_party(world).pk: "甲", defendant_party(world).pk: "乙"}
    with translation.override("zh-hans"):
        text = agreed_clauses(version.content, parties)[2]
    assert text.startswith("乙如未按期足额支付上述任何一期款项，剩余未付款项全部提前到期")
    assert "按年利率7.5%向甲支付逾期款项的利息" in text


@pytest.mark.parametrize(
    ("clause", "terms", "message"),
    [
        (CLAUSE, 1, "applies to payments in instalments"),
        ({**CLAUSE, "grace_days": -1}, 3, "days of grace as a whole number from 0 to 365"),
        ({**CLAUSE, "grace_days": "ten"}, 3, "days of grace as a whole number from 0 to 365"),
        ({**CLAUSE, "grace_days": 400}, 3, "days of grace as a whole number from 0 to 365"),
        ({**CLAUSE, "penalty": "prison"}, 3, "choose what the debtor pays"),
        ({**CLAUSE, "amount": "0"}, 3, "give the fixed sum in yuan"),
        ({**CLAUSE, "amount": "NaN"}, 3, "give the fixed sum in yuan"),
        ({"enabled": True, "penalty": "interest", "rate": ""}, 3, "yearly interest rate"),
        ({"enabled": True, "penalty": "interest", "rate": "150"}, 3, "yearly interest rate"),
    ],
)
def test_a_wrong_default_clause_is_refused_and_changes_nothing(world, clause, terms, message):
    agreement = draft(world)
    before = fresh(agreement).current_version.content

    with pytest.raises(ValidationError) as refused:
        save(agreement, world, terms=instalments(world, terms), default_clause=clause, facts="changed")

    assert any(message in problem for problem in refused.value.message_dict["default_clause"])
    assert fresh(agreement).current_version.content == before


def test_an_unticked_clause_is_the_mediators_decision_and_prints_nothing(world):
    agreement = draft(world)
    version = save(agreement, world, terms=instalments(world), default_clause={"enabled": False})
    assert version.content["default_clause"] == {"enabled": False}
    assert len(agreed_clauses(version.content, {})) == 3


# Drafting on one page ---------------------------------------------------------------------------


def term_fields(index, **values) -> dict:
    return {f"terms-{index}-{key}": value for key, value in values.items()}


def form_data(world, rows, **extra) -> dict:
    data = {
        "facts": "原告为被告制作宣传视频。",
        "costs": "调解不收费。",
        "effectiveness": "签章后生效。",
        "judicial_confirmation": "on",
        "terms-TOTAL_FORMS": str(len(rows) + 1),
        "terms-INITIAL_FORMS": "0",
        "penalty": "none",
        "grace_days": "0",
        **extra,
    }
    for index, row in enumerate(rows):
        data.update(term_fields(index, **row))
    # The page's empty row, left untouched.
    data.update(term_fields(len(rows), kind="", obligor="", obligee=""))
    return data


def payment_row(world, month, amount="100000") -> dict:
    return {
        "kind": "payment",
        "obligor": defendant_party(world).pk,
        "obligee": plaintiff_party(world).pk,
        "amount": amount,
        "method": "银行转账",
        "due_date": f"2027-{month:02d}-15",
    }


def test_the_one_page_form_saves_every_term_and_the_clause_in_one_submission(client, world):
    agreement = agreements.start_agreement(case=world.case, actor=world.mediator)
    client.force_login(world.mediator)
    act = {
        "kind": "act",
        "obligor": plaintiff_party(world).pk,
        "obligee": defendant_party(world).pk,
        "act": "交付视频母带",
    }
    rows = [payment_row(world, 1), payment_row(world, 2), payment_row(world, 3), act]
    clause = {"default_clause": "on", "default_clause_offered": "True", "grace_days": "5", "penalty": "fixed"}
    clause["penalty_amount"] = "8000"

    response = client.post(reverse("agreement_edit", args=[agreement.pk]), form_data(world, rows, **clause))

    assert response.status_code == 302
    content = fresh(agreement).current_version.content
    assert [term["kind"] for term in content["terms"]] == ["payment", "payment", "payment", "act"]
    assert [term["due_date"] for term in content["terms"][:3]] == ["2027-01-15", "2027-02-15", "2027-03-15"]
    assert content["default_clause"] == {"enabled": True, "grace_days": 5, "penalty": "fixed", "amount": "8000.00"}
    assert AuditEntry.objects.filter(action="agreement.edit", target_id=str(agreement.pk)).count() == 1


def test_one_bad_row_refuses_the_whole_submission_and_shows_the_error_on_its_row(client, world):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    client.force_login(world.mediator)
    rows = [payment_row(world, 1), payment_row(world, 2, amount=""), payment_row(world, 3)]

    response = client.post(reverse("agreement_edit", args=[agreement.pk]), form_data(world, rows))

    assert response.status_code == 400
    assert fresh(agreement).current_version.content == before
    rows_html = re.findall(r"<fieldset class=\"term\" data-term>(.*?)</fieldset>", response.content.decode(), re.S)
    assert "give the amount" in rows_html[1]
    assert "give the amount" not in rows_html[0] + rows_html[2]
    # What was typed is kept.
    assert 'value="2027-03-15"' in rows_html[2]


def test_a_wrong_clause_on_the_page_refuses_everything_and_says_why_beside_it(client, world):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    client.force_login(world.mediator)
    rows = [payment_row(world, 1), payment_row(world, 2)]
    data = form_data(world, rows, default_clause="on", default_clause_offered="True", penalty="interest")

    response = client.post(reverse("agreement_edit", args=[agreement.pk]), data)

    assert response.status_code == 400
    assert "give the yearly interest rate" in response.content.decode()
    assert fresh(agreement).current_version.content == before


def test_the_page_offers_the_clause_ticked_once_there_are_instalments(client, world):
    agreement = draft(world)
    client.force_login(world.mediator)
    single = client.get(reverse("agreement_edit", args=[agreement.pk])).content.decode()
    assert re.search(r'<input type="checkbox" name="default_clause" id="id_default_clause">', single)

    save(agreement, world, terms=instalments(world))
    page = client.get(reverse("agreement_edit", args=[agreement.pk])).content.decode()
    assert re.search(r'<input type="checkbox" name="default_clause" id="id_default_clause" checked>', page)
    # Every saved term is a row of the one page, then an empty row and the template
    # the script copies to add more.
    assert page.count("data-term>") == 3 + 1 + 1
    assert "js/agreement_edit.js" in page


def test_only_the_mediator_may_post_the_drafting_page(client, world):
    agreement = draft(world)
    before = fresh(agreement).current_version.content
    for user in (world.plaintiff, world.judge):
        client.force_login(user)
        response = client.post(
            reverse("agreement_edit", args=[agreement.pk]), form_data(world, [payment_row(world, 1)])
        )
        assert response.status_code in (403, 404)
    assert fresh(agreement).current_version.content == before


# The agreement's page shows the terms ------------------------------------------------------------


def test_the_agreement_page_shows_the_terms_in_the_readers_language_before_and_after_locking(client, world):
    agreement = draft(world)
    save(agreement, world, terms=instalments(world, 2), default_clause=CLAUSE)
    defendant = defendant_party(world).name
    client.force_login(world.defendant)

    chinese = page_text(client.get(reverse("agreement_detail", args=[agreement.pk]), **ZH))
    assert f"{defendant}于2027年1月15日前向" in chinese
    assert "剩余未付款项全部提前到期" in chinese
    english = page_text(client.get(reverse("agreement_detail", args=[agreement.pk]), **EN))
    assert f"{defendant} pays" in english
    assert "the whole unpaid balance becomes due at once" in english

    agreements.lock_agreement(agreement=fresh(agreement), actor=world.mediator)
    locked = page_text(client.get(reverse("agreement_detail", args=[agreement.pk]), **ZH))
    assert "剩余未付款项全部提前到期" in locked
    assert "北京市石景山区人民法院在线调解平台" in locked


# Layout: the signatures never stand alone ---------------------------------------------------------


def render(agreement, facts_lines: int) -> list[str]:
    version = fresh(agreement).current_version
    content = {
        **version.content,
        "facts": "\n".join(["原告与被告签订视频制作合同，约定由原告为被告制作宣传视频。"] * facts_lines),
        "parties": parties_snapshot(agreement.case),
        "case_number": agreement.case.number,
        "cause_of_action": agreement.case.cause_of_action,
    }
    preview = AgreementVersion(agreement=agreement, number=version.number, content=content)
    rendered = render_pdf(
        "documents/pdf/agreement.html",
        agreement_document_context(agreement, preview, required_slots(agreement.case)),
    )
    return [squashed(page.extract_text()) for page in PdfReader(io.BytesIO(rendered.pdf)).pages]


def test_the_signatures_never_stand_alone_on_the_last_page(world):
    agreement = draft(world)
    # The fewest lines of facts that make one more page: there the old layout pushed
    # the signature block alone onto it.
    base = len(render(agreement, 1))
    low, high = 1, 80
    assert len(render(agreement, high)) > base
    while low + 1 < high:
        middle = (low + high) // 2
        if len(render(agreement, middle)) > base:
            high = middle
        else:
            low = middle
    pages = render(agreement, high)

    last = pages[-1]
    assert "调解员：" in last
    # The last clauses went with them.
    assert "各方签章后生效。" in last
    assert "签订地点" in last
