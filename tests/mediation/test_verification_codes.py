"""One-time SMS codes: what a person trying them meets, and what an attacker cannot do."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from mediation import id_numbers, phones
from mediation.models import PhoneCode, SmsMessage
from mediation.verification_codes import CodeRefused, check_code, send_code, use_code, verify_code

PHONE = "+8613800138000"


def code_in(message) -> str:
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.body).group(1)


@pytest.fixture
def now(monkeypatch):
    """A clock the test moves."""
    clock = {"now": timezone.now()}
    monkeypatch.setattr("mediation.verification_codes.timezone.now", lambda: clock["now"])
    return clock


def advance(clock, **delta):
    clock["now"] += dt.timedelta(**delta)


@pytest.mark.django_db
class TestSending:
    def test_a_code_is_six_digits_sent_by_sms_and_stored_only_as_a_hash(
        self, sms_outbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            send_code(PHONE, "apply", client_address="10.0.0.1")
        [message] = sms_outbox
        assert message.to == PHONE and message.template == "verification_code"
        code = code_in(message)
        record = PhoneCode.objects.get()
        assert code not in record.code_hash and len(record.code_hash) == 64
        assert SmsMessage.objects.get().status == SmsMessage.Status.SENT
        assert verify_code(PHONE, "apply", code)

    def test_a_new_code_comes_no_sooner_than_60_seconds_after_the_last(self, now):
        send_code(PHONE, "apply")
        advance(now, seconds=20)
        with pytest.raises(CodeRefused) as refused:
            send_code(PHONE, "track")
        assert refused.value.code == "too_soon" and refused.value.retry_after == 40
        assert "40 seconds" in refused.value.message
        assert PhoneCode.objects.count() == 1 and SmsMessage.objects.count() == 1
        advance(now, seconds=41)
        send_code(PHONE, "track")

    def test_at_most_five_codes_per_number_in_an_hour(self, now):
        for _ in range(5):
            send_code(PHONE, "login")
            advance(now, minutes=2)
        with pytest.raises(CodeRefused) as refused:
            send_code(PHONE, "login", client_address="10.0.0.9")
        assert refused.value.code == "number_limit"
        assert refused.value.retry_after == 50 * 60
        assert "50 minutes" in refused.value.message
        assert PhoneCode.objects.count() == 5
        advance(now, minutes=51)
        send_code(PHONE, "login")

    def test_at_most_twenty_codes_per_client_address_in_an_hour(self, now):
        for n in range(20):
            send_code(f"+861380013{n:04d}", "apply", client_address="10.0.0.7")
        with pytest.raises(CodeRefused) as refused:
            send_code("+8613900139000", "apply", client_address="10.0.0.7")
        assert refused.value.code == "address_limit" and refused.value.retry_after > 0
        send_code("+8613900139000", "apply", client_address="10.0.0.8")

    def test_addresses_of_one_ipv6_network_count_as_one(self, now):
        for n in range(20):
            send_code(f"+861380013{n:04d}", "apply", client_address=f"2001:db8:1:2::{n + 1:x}")
        with pytest.raises(CodeRefused) as refused:
            send_code("+8613900139000", "apply", client_address="2001:db8:1:2:ffff::9")
        assert refused.value.code == "address_limit"
        send_code("+8613900139000", "apply", client_address="2001:db8:1:3::1")

    def test_nobody_who_knows_a_number_can_use_up_its_codes_to_sign(self, now):
        for n in range(5):
            send_code(PHONE, "track", client_address=f"10.0.1.{n}")
            advance(now, seconds=61)
        with pytest.raises(CodeRefused) as refused:
            send_code(PHONE, "login", client_address="10.0.2.1")
        assert refused.value.code == "number_limit"
        # Codes to sign go only to the signer's own number, asked for signed in: a budget
        # of their own, with the same limits.
        for _ in range(5):
            send_code(PHONE, "sign", client_address="10.0.3.1")
            advance(now, seconds=61)
        with pytest.raises(CodeRefused) as refused:
            send_code(PHONE, "sign", client_address="10.0.3.1")
        assert refused.value.code == "number_limit"

    def test_a_code_recorded_but_not_sent_counts_and_never_matches(self, now, sms_outbox):
        from mediation.verification_codes import record_unsent_code

        record_unsent_code(PHONE, "login", client_address="10.0.0.9")
        assert sms_outbox == []
        with pytest.raises(CodeRefused) as refused:
            send_code(PHONE, "login", client_address="10.0.0.9")
        assert refused.value.code == "too_soon"
        with pytest.raises(CodeRefused) as refused:
            check_code(PHONE, "login", "000000")
        assert refused.value.code == "wrong"


@pytest.mark.django_db
class TestChecking:
    def send(self, sms_outbox, purpose="apply"):
        send_code(PHONE, purpose)
        from mediation.sms import deliver

        deliver()
        return code_in(sms_outbox[-1])

    def test_a_wrong_code_is_refused_and_counted(self, sms_outbox):
        code = self.send(sms_outbox)
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(CodeRefused) as refused:
            check_code(PHONE, "apply", wrong)
        assert refused.value.code == "wrong" and "4 more times" in refused.value.message
        assert PhoneCode.objects.get().failed_attempts == 1
        assert verify_code(PHONE, "apply", code)

    def test_the_sixth_try_is_refused_even_with_the_right_code(self, sms_outbox):
        code = self.send(sms_outbox)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            with pytest.raises(CodeRefused):
                check_code(PHONE, "apply", wrong)
        with pytest.raises(CodeRefused) as refused:
            check_code(PHONE, "apply", code)
        assert refused.value.code == "too_many_tries"

    def test_a_code_is_valid_five_minutes(self, sms_outbox, now):
        code = self.send(sms_outbox)
        advance(now, minutes=5, seconds=1)
        with pytest.raises(CodeRefused) as refused:
            check_code(PHONE, "apply", code)
        assert refused.value.code == "expired"

    def test_a_code_works_once(self, sms_outbox):
        code = self.send(sms_outbox)
        checked = check_code(PHONE, "apply", code)
        use_code(checked)
        with pytest.raises(CodeRefused) as refused:
            check_code(PHONE, "apply", code)
        assert refused.value.code == "used"
        with pytest.raises(CodeRefused):
            use_code(checked)

    def test_a_code_is_for_one_purpose_and_one_number(self, sms_outbox):
        code = self.send(sms_outbox, purpose="track")
        with pytest.raises(CodeRefused):
            check_code(PHONE, "apply", code)
        with pytest.raises(CodeRefused):
            check_code("+8613900139000", "track", code)

    def test_only_the_newest_code_works(self, sms_outbox, now):
        first = self.send(sms_outbox)
        advance(now, seconds=61)
        second = self.send(sms_outbox)
        if first != second:
            with pytest.raises(CodeRefused):
                check_code(PHONE, "apply", first)
        assert check_code(PHONE, "apply", second)

    def test_no_code_sent(self, db):
        with pytest.raises(CodeRefused) as refused:
            check_code(PHONE, "apply", "123456")
        assert refused.value.code == "none"


class TestIdNumbers:
    def test_a_valid_number_is_normalised(self):
        assert id_numbers.validate(" 11010519491231002x ") == "11010519491231002X"

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            ("1101051949123100", "18 characters; this one has 16"),
            ("11010519491231002Y", "17 digits followed by a digit or the letter X"),
            ("110105194913310021", "19491331 is not a date"),
            ("110105194912310021", "check digit"),
            ("999999194912310025", "999999 is not one"),
        ],
    )
    def test_each_fault_is_named(self, value, says):
        with pytest.raises(ValidationError) as error:
            id_numbers.validate(value)
        assert says in error.value.message_dict["id_number"][0]

    def test_masked(self):
        assert id_numbers.mask("11010519491231002X") == "110***********002X"


class TestPhoneMask:
    def test_a_chinese_mobile(self):
        assert phones.mask("+8613812341234") == "138****1234"

    def test_abroad(self):
        assert phones.mask("+85261234567") == "+852 61****67"

    def test_empty(self):
        assert phones.mask("") == ""
