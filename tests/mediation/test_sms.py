"""Sending text messages: the transports, the delivery state machine and the
providers' delivery receipts.

The provider transports are tested without a network: the official SDK's client is
real, only its send method is replaced, and the tests assert the request it would
have sent and what each provider answer does to the message."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from alibabacloud_dysmsapi20170525.client import Client as AliyunClient
from alibabacloud_dysmsapi20170525.models import SendSmsResponse as AliyunResponse
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models as tencent_models
from tencentcloud.sms.v20210111.sms_client import SmsClient as TencentClient

from mediation.models import SmsMessage, SmsReceipt
from mediation.sms import backoff, deliver, destination, send_sms
from mediation.sms.backends import console
from mediation.sms.backends.file import read_messages

PHONE = "+8613800138000"
HONG_KONG = "+85261234567"
TOKEN = "receipt-secret-0123456789abcdefghijklmnop"
BEIJING = ZoneInfo("Asia/Shanghai")


def queue(to=PHONE, code="123456", capture=None):
    """Queue a verification-code message and run its after-commit send."""
    with capture(execute=True):
        return send_sms(to, "verification_code", {"code": code, "minutes": 5})


def reloaded(message) -> SmsMessage:
    return SmsMessage.objects.get(pk=message.pk)


# -- transports -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestConsoleAndFile:
    def test_console_prints_the_number_and_the_whole_text(self, settings, django_capture_on_commit_callbacks, capsys):
        settings.SMS_BACKEND = "console"
        message = queue(capture=django_capture_on_commit_callbacks)
        printed = capsys.readouterr().out
        assert f"SMS to {PHONE}" in printed
        assert "您的验证码为123456，5分钟内有效。" in printed  # the whole text, in the recipient's language
        assert reloaded(message).status == SmsMessage.Status.SENT
        assert reloaded(message).provider_message_id.startswith("console-")

    def test_make_run_is_told_where_messages_go(self, settings, tmp_path):
        settings.SMS_BACKEND = "console"
        out = io.StringIO()
        call_command("deliver_sms", "--where", stdout=out)
        assert "printed in this console" in out.getvalue()
        settings.SMS_BACKEND = "file"
        settings.SMS_FILE_DIR = str(tmp_path)
        assert str(tmp_path) in destination()

    def test_file_backend_writes_one_json_file_per_message(
        self, settings, tmp_path, django_capture_on_commit_callbacks
    ):
        settings.SMS_BACKEND = "file"
        settings.SMS_FILE_DIR = str(tmp_path / "sms")
        first = queue(code="111111", capture=django_capture_on_commit_callbacks)
        queue(to=HONG_KONG, code="222222", capture=django_capture_on_commit_callbacks)
        files = sorted((tmp_path / "sms").iterdir())
        assert [path.suffix for path in files] == [".json", ".json"]  # no temporary file left behind
        record = json.loads(files[0].read_text(encoding="utf-8"))
        assert set(record) == {"id", "to", "body", "template", "sent_at"}
        assert record["to"] == PHONE and record["template"] == "verification_code"
        assert "111111" in record["body"]
        assert record["id"] == reloaded(first).provider_message_id
        assert dt.datetime.fromisoformat(record["sent_at"]) <= timezone.now()
        assert [m["to"] for m in read_messages()] == [PHONE, HONG_KONG]  # oldest first

    def test_an_unwritable_directory_leaves_the_message_queued_for_a_retry(
        self, settings, tmp_path, django_capture_on_commit_callbacks
    ):
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        settings.SMS_BACKEND = "file"
        settings.SMS_FILE_DIR = str(blocker / "sms")
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.QUEUED and message.attempt_count == 1
        assert "cannot write" in message.last_error and message.next_attempt_at > timezone.now()


# -- Alibaba Cloud ------------------------------------------------------------------------------


@pytest.fixture
def aliyun(settings, monkeypatch):
    """Alibaba Cloud configured; the SDK client's SendSms answers what the test sets and
    records each request it is given."""
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "LTAI-test"
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "secret"
    settings.SMS_ALIYUN_SIGN_NAME = "石景山法院"
    settings.SMS_ALIYUN_TEMPLATES = {"verification_code": "SMS_460755123"}
    stub = {"requests": [], "answer": {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}}

    def send_sms_with_options(client, request, runtime):
        stub["requests"].append(request)
        if isinstance(stub["answer"], Exception):
            raise stub["answer"]
        return AliyunResponse().from_map({"statusCode": 200, "body": {**stub["answer"], "RequestId": "F655A8D5"}})

    monkeypatch.setattr(AliyunClient, "send_sms_with_options", send_sms_with_options)
    return stub


@pytest.mark.django_db
class TestAliyun:
    def test_an_unregistered_template_fails_without_calling_the_provider(
        self, aliyun, settings, django_capture_on_commit_callbacks
    ):
        settings.SMS_ALIYUN_TEMPLATES = {}
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.FAILED and "SMS_ALIYUN_TEMPLATES" in message.last_error
        assert aliyun["requests"] == []

    def test_an_invalid_number_fails_at_once(self, aliyun, django_capture_on_commit_callbacks):
        aliyun["answer"] = {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.FAILED and message.failed_at is not None
        assert message.attempt_count == 1 and message.next_attempt_at is None
        assert message.last_error.startswith("isv.MOBILE_NUMBER_ILLEGAL")

    def test_a_throttled_message_is_retried_later(self, aliyun, django_capture_on_commit_callbacks):
        aliyun["answer"] = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"}
        before = timezone.now()
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.QUEUED and message.attempt_count == 1
        assert message.next_attempt_at >= before + backoff(1)
        assert message.last_error.startswith("isv.BUSINESS_LIMIT_CONTROL")

    def test_the_sdks_throttling_exception_is_retried_too(self, aliyun, django_capture_on_commit_callbacks):
        aliyun["answer"] = ThrottlingException(
            code="Throttling.User", message="Request was denied due to flow control."
        )
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.QUEUED and message.last_error.startswith("Throttling.User")

    def test_sends_the_sign_template_code_parameters_and_the_national_number(
        self, aliyun, django_capture_on_commit_callbacks
    ):
        message = queue(capture=django_capture_on_commit_callbacks)
        [request] = aliyun["requests"]
        assert request.phone_numbers == "13800138000"  # mainland China: the national number
        assert request.sign_name == "石景山法院"
        assert request.template_code == "SMS_460755123"
        assert json.loads(request.template_param) == {"code": "123456", "minutes": "5"}
        assert request.out_id == str(message.pk)
        sent = reloaded(message)
        assert sent.status == SmsMessage.Status.SENT and sent.provider_message_id == "900619746936498440^0"
        assert sent.sent_at is not None and sent.last_error == ""

    def test_a_number_abroad_keeps_its_country_code_without_plus(self, aliyun, django_capture_on_commit_callbacks):
        queue(to=HONG_KONG, capture=django_capture_on_commit_callbacks)
        assert aliyun["requests"][0].phone_numbers == "85261234567"


# -- Tencent Cloud ------------------------------------------------------------------------------


@pytest.fixture
def tencent(settings, monkeypatch):
    settings.SMS_BACKEND = "tencent"
    settings.SMS_TENCENT_SECRET_ID = "AKID-test"
    settings.SMS_TENCENT_SECRET_KEY = "secret"
    settings.SMS_TENCENT_SDK_APP_ID = "1400787878"
    settings.SMS_TENCENT_SIGN_NAME = "石景山法院"
    settings.SMS_TENCENT_TEMPLATES = {"verification_code": {"id": "1794311", "params": ["code", "minutes"]}}
    stub = {"requests": [], "answer": {"Code": "Ok", "Message": "send success", "SerialNo": "2640:3217500812"}}

    def send_sms(client, request):
        stub["requests"].append(request)
        if isinstance(stub["answer"], Exception):
            raise stub["answer"]
        response = tencent_models.SendSmsResponse()
        number = request.PhoneNumberSet[0]
        response._deserialize(
            {"SendStatusSet": [{**stub["answer"], "PhoneNumber": number, "Fee": 1}], "RequestId": "a0aabda6"}
        )
        return response

    monkeypatch.setattr(TencentClient, "SendSms", send_sms)
    return stub


@pytest.mark.django_db
class TestTencent:
    def test_an_invalid_number_fails_at_once(self, tencent, django_capture_on_commit_callbacks):
        tencent["answer"] = {"Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "手机号格式错误"}
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.FAILED and message.next_attempt_at is None

    def test_a_template_without_a_value_for_each_parameter_fails_without_calling_the_provider(
        self, tencent, settings, django_capture_on_commit_callbacks
    ):
        settings.SMS_TENCENT_TEMPLATES = {"verification_code": {"id": "1794311", "params": ["code", "court"]}}
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.FAILED and "court" in message.last_error
        assert tencent["requests"] == []

    def test_a_throttled_message_is_retried_later(self, tencent, django_capture_on_commit_callbacks):
        tencent["answer"] = {"Code": "LimitExceeded.PhoneNumberThirtySecondLimit", "Message": "30秒内频率限制"}
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.QUEUED and message.next_attempt_at > timezone.now()

    def test_a_network_error_is_retried_later(self, tencent, django_capture_on_commit_callbacks):
        tencent["answer"] = TencentCloudSDKException("ClientNetworkError", "connection timed out")
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.QUEUED and message.last_error.startswith("ClientNetworkError")

    def test_sends_the_app_sign_template_id_ordered_parameters_and_the_e164_number(
        self, tencent, django_capture_on_commit_callbacks
    ):
        message = queue(capture=django_capture_on_commit_callbacks)
        [request] = tencent["requests"]
        assert request.PhoneNumberSet == ["+8613800138000"]
        assert request.SmsSdkAppId == "1400787878" and request.SignName == "石景山法院"
        assert request.TemplateId == "1794311"
        assert request.TemplateParamSet == ["123456", "5"]
        assert request.SessionContext == str(message.pk)
        sent = reloaded(message)
        assert sent.status == SmsMessage.Status.SENT and sent.provider_message_id == "2640:3217500812"


# -- the delivery state machine -----------------------------------------------------------------


@pytest.fixture
def failing_transport(settings, monkeypatch):
    """A transport that refuses every message (a provider outage), counting its calls."""
    from mediation.sms import SmsNotSent
    from mediation.sms.backends import locmem

    calls = []

    def send(self, message):
        calls.append(message.pk)
        raise SmsNotSent("isp.SYSTEM_ERROR: provider down")

    monkeypatch.setattr(locmem.SmsBackend, "send", send)
    return calls


def at(moment):
    return lambda: moment


@pytest.mark.django_db
class TestDelivery:
    def test_a_message_is_not_retried_before_its_next_attempt(
        self, failing_transport, django_capture_on_commit_callbacks
    ):
        message = queue(capture=django_capture_on_commit_callbacks)
        assert failing_transport == [message.pk]
        assert deliver() == 0
        assert failing_transport == [message.pk]  # not due yet

    def test_deliver_sms_retries_with_growing_backoff_and_gives_up_after_max_attempts(
        self, settings, failing_transport, monkeypatch, django_capture_on_commit_callbacks
    ):
        settings.SMS_MAX_ATTEMPTS = 3
        message = queue(capture=django_capture_on_commit_callbacks)
        waits = []
        for _attempt in range(2):
            due = reloaded(message).next_attempt_at
            waits.append(due - reloaded(message).created_at)
            monkeypatch.setattr("mediation.sms.timezone.now", at(due + dt.timedelta(seconds=1)))
            out = io.StringIO()
            call_command("deliver_sms", stdout=out)
            assert out.getvalue().strip() == "sent: 0"
        gave_up = reloaded(message)
        assert gave_up.status == SmsMessage.Status.FAILED and gave_up.attempt_count == 3
        assert gave_up.failed_at is not None and gave_up.next_attempt_at is None
        assert waits[1] > waits[0]
        monkeypatch.setattr("mediation.sms.timezone.now", at(timezone.now() + dt.timedelta(days=1)))
        assert deliver() == 0 and len(failing_transport) == 3  # never again

    def test_a_message_queued_before_the_transport_changed_is_recorded_as_sent_by_the_new_one(
        self, aliyun, settings, failing_transport, monkeypatch, django_capture_on_commit_callbacks
    ):
        settings.SMS_BACKEND = "locmem"
        message = queue(capture=django_capture_on_commit_callbacks)  # the locmem transport refuses it
        settings.SMS_BACKEND = "aliyun"
        monkeypatch.setattr("mediation.sms.timezone.now", at(reloaded(message).next_attempt_at))
        assert deliver() == 1
        sent = reloaded(message)
        assert sent.backend == "aliyun" and sent.provider_message_id == "900619746936498440^0"

    def test_a_retried_message_is_sent_once_the_provider_is_back(
        self, failing_transport, monkeypatch, sms_outbox, django_capture_on_commit_callbacks
    ):
        message = queue(capture=django_capture_on_commit_callbacks)
        monkeypatch.undo()  # the provider is back
        monkeypatch.setattr("mediation.sms.timezone.now", at(reloaded(message).next_attempt_at))
        assert deliver() == 1
        sent = reloaded(message)
        assert sent.status == SmsMessage.Status.SENT and sent.attempt_count == 2 and sent.last_error == ""
        assert [m.pk for m in sms_outbox] == [message.pk]

    def test_a_transport_that_cannot_be_created_counts_an_attempt(
        self, settings, monkeypatch, django_capture_on_commit_callbacks
    ):
        settings.SMS_BACKEND = "mediation.sms.backends.nowhere.SmsBackend"
        message = reloaded(queue(capture=django_capture_on_commit_callbacks))
        assert message.status == SmsMessage.Status.QUEUED and message.attempt_count == 1
        assert message.last_error.startswith("transport: ModuleNotFoundError")
        assert message.next_attempt_at > timezone.now()

    def test_a_rolled_back_action_texts_nobody(self, sms_outbox, django_capture_on_commit_callbacks):
        from django.db import transaction

        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            send_sms(PHONE, "verification_code", {"code": "1", "minutes": 5})
            raise RuntimeError
        assert sms_outbox == [] and not SmsMessage.objects.exists()

    def test_final_states_do_not_move(self):
        message = SmsMessage(status=SmsMessage.Status.DELIVERED)
        assert not message.can_become(SmsMessage.Status.FAILED)
        assert SmsMessage(status=SmsMessage.Status.FAILED).TRANSITIONS[SmsMessage.Status.FAILED] == set()
        assert SmsMessage(status=SmsMessage.Status.QUEUED).can_become(SmsMessage.Status.SENT)
        assert not SmsMessage(status=SmsMessage.Status.QUEUED).can_become(SmsMessage.Status.DELIVERED)


# -- delivery receipts --------------------------------------------------------------------------


def beijing(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def sent_message(backend: str, provider_id: str) -> SmsMessage:
    return SmsMessage.objects.create(
        to=PHONE,
        template="verification_code",
        params={"code": "123456", "minutes": 5},
        body="Your verification code is 123456.",
        backend=backend,
        status=SmsMessage.Status.SENT,
        provider_message_id=provider_id,
        attempt_count=1,
        sent_at=timezone.now(),
    )


def aliyun_receipt(biz_id="900619746936498440^0", success=True, when=None, code="DELIVERED"):
    return {
        "phone_number": "13800138000",
        "send_time": beijing(timezone.now() - dt.timedelta(seconds=10)),
        "report_time": beijing(when or timezone.now()),
        "success": success,
        "err_code": code,
        "err_msg": "用户接收成功" if success else "失败",
        "sms_size": "1",
        "biz_id": biz_id,
        "out_id": "1",
    }


def tencent_receipt(sid="2640:3217500812", status="SUCCESS", when=None, code="DELIVRD"):
    return {
        "user_receive_time": beijing(when or timezone.now()),
        "nationcode": "86",
        "mobile": "13800138000",
        "report_status": status,
        "errmsg": code,
        "description": "用户短信送达成功",
        "sid": sid,
    }


def receipt_url(provider, token=TOKEN):
    kwargs = {"provider": provider, "token": token} if token else {"provider": provider}
    return reverse("sms_receipt", kwargs=kwargs)


def post(client, url, payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def receipts_on(settings):
    settings.SMS_RECEIPT_TOKEN = TOKEN


def unchanged(message) -> bool:
    now = reloaded(message)
    return now.status == SmsMessage.Status.SENT and now.delivered_at is None and not SmsReceipt.objects.exists()


@pytest.mark.django_db
class TestReceiptRefusals:
    def test_only_post(self, client, receipts_on):
        assert client.get(receipt_url("aliyun")).status_code == 405

    def test_a_callback_without_the_secret_is_refused(self, client, receipts_on):
        message = sent_message("aliyun", "900619746936498440^0")
        response = post(client, receipt_url("aliyun", token=None), [aliyun_receipt()])
        assert response.status_code == 403 and unchanged(message)

    def test_a_callback_with_a_wrong_secret_is_refused(self, client, receipts_on):
        message = sent_message("aliyun", "900619746936498440^0")
        response = post(client, receipt_url("aliyun", token=TOKEN[:-1] + "X"), [aliyun_receipt()])
        assert response.status_code == 403 and unchanged(message)
        assert response.json() == {"code": 1, "msg": "bad_token"}

    def test_without_a_configured_secret_every_callback_is_refused(self, client, settings):
        settings.SMS_RECEIPT_TOKEN = ""
        message = sent_message("tencent", "2640:3217500812")
        for token in (None, "anything"):
            assert post(client, receipt_url("tencent", token=token), [tencent_receipt()]).status_code == 403
        assert unchanged(message)

    def test_an_oversized_body_is_refused_unread(self, client, receipts_on, settings):
        settings.SMS_RECEIPT_MAX_BYTES = 1024
        message = sent_message("aliyun", "900619746936498440^0")
        padded = [aliyun_receipt() | {"err_msg": "x" * 2000}]
        assert post(client, receipt_url("aliyun"), padded).status_code == 413
        assert unchanged(message)

    def test_too_many_receipts_in_one_callback_are_refused(self, client, receipts_on, settings):
        settings.SMS_RECEIPT_MAX_COUNT = 2
        message = sent_message("aliyun", "900619746936498440^0")
        assert post(client, receipt_url("aliyun"), [aliyun_receipt()] * 3).status_code == 413
        assert unchanged(message)

    @pytest.mark.parametrize(
        "payload",
        [
            b"not json",
            b"\xff\xfe",
            [],
            ["a string"],
            [{"biz_id": "900619746936498440^0", "success": "yes", "report_time": "2026-01-01 00:00:00"}],
            [{"success": True, "report_time": "2026-01-01 00:00:00"}],
        ],
        ids=["not-json", "not-utf8", "empty", "not-objects", "success-not-boolean", "no-id"],
    )
    def test_a_malformed_callback_is_refused(self, client, receipts_on, payload):
        message = sent_message("aliyun", "900619746936498440^0")
        assert post(client, receipt_url("aliyun"), payload).status_code == 400
        assert unchanged(message)

    def test_a_receipt_with_a_bad_time_is_malformed(self, client, receipts_on):
        message = sent_message("tencent", "2640:3217500812")
        receipt = tencent_receipt() | {"user_receive_time": "yesterday"}
        assert post(client, receipt_url("tencent"), [receipt]).status_code == 400
        assert unchanged(message)

    def test_a_stale_callback_is_refused(self, client, receipts_on):
        message = sent_message("aliyun", "900619746936498440^0")
        old = timezone.now() - dt.timedelta(days=2)
        response = post(client, receipt_url("aliyun"), [aliyun_receipt(when=old)])
        assert response.status_code == 400 and response.json()["msg"] == "stale"
        assert unchanged(message)

    def test_a_receipt_from_the_future_is_refused(self, client, receipts_on):
        message = sent_message("tencent", "2640:3217500812")
        later = timezone.now() + dt.timedelta(hours=1)
        assert post(client, receipt_url("tencent"), [tencent_receipt(when=later)]).status_code == 400
        assert unchanged(message)

    def test_one_stale_receipt_refuses_the_whole_callback(self, client, receipts_on):
        fresh = sent_message("aliyun", "fresh^0")
        old = timezone.now() - dt.timedelta(days=2)
        payload = [aliyun_receipt(biz_id="fresh^0"), aliyun_receipt(biz_id="other^0", when=old)]
        assert post(client, receipt_url("aliyun"), payload).status_code == 400
        assert unchanged(fresh)

    def test_a_replayed_callback_changes_nothing(self, client, receipts_on):
        message = sent_message("aliyun", "900619746936498440^0")
        first = post(client, receipt_url("aliyun"), [aliyun_receipt()])
        assert first.status_code == 200
        delivered_at = reloaded(message).delivered_at
        # The same receipt again, then a contrary one for the same message.
        replay = post(client, receipt_url("aliyun"), [aliyun_receipt()])
        contrary = post(client, receipt_url("aliyun"), [aliyun_receipt(success=False, code="MK:0001")])
        assert replay.status_code == 400 and replay.json()["msg"] == "replayed"
        assert contrary.status_code == 400
        message = reloaded(message)
        assert message.status == SmsMessage.Status.DELIVERED and message.delivered_at == delivered_at
        assert SmsReceipt.objects.count() == 1

    def test_a_receipt_names_only_messages_sent_through_that_provider(self, client, receipts_on):
        message = sent_message("tencent", "2640:3217500812")
        # The Tencent message's id in an Alibaba Cloud receipt.
        response = post(client, receipt_url("aliyun"), [aliyun_receipt(biz_id="2640:3217500812")])
        assert response.status_code == 200  # acknowledged, so the provider stops sending it
        assert unchanged(message)

    def test_an_unknown_provider_has_no_address(self, client, receipts_on):
        assert post(client, f"/sms/receipts/twilio/{TOKEN}/", [aliyun_receipt()]).status_code == 404


@pytest.mark.django_db
class TestReceipts:
    def test_an_aliyun_receipt_marks_its_message_delivered(self, client, receipts_on):
        message = sent_message("aliyun", "900619746936498440^0")
        other = sent_message("aliyun", "900619746936498441^0")
        reported = (timezone.now() - dt.timedelta(minutes=3)).replace(microsecond=0)
        response = post(client, receipt_url("aliyun"), [aliyun_receipt(when=reported)])
        assert response.status_code == 200 and response.json() == {"code": 0, "msg": "接收成功"}
        message = reloaded(message)
        assert message.status == SmsMessage.Status.DELIVERED and message.delivered_at == reported
        assert message.receipt_code == "DELIVERED"
        assert reloaded(other).status == SmsMessage.Status.SENT

    def test_a_provider_needs_no_csrf_token(self, receipts_on):
        from django.test import Client

        message = sent_message("tencent", "2640:3217500812")
        provider = Client(enforce_csrf_checks=True)
        assert post(provider, receipt_url("tencent"), [tencent_receipt()]).status_code == 200
        assert reloaded(message).status == SmsMessage.Status.DELIVERED

    def test_a_tencent_receipt_marks_its_message_failed(self, client, receipts_on):
        message = sent_message("tencent", "2640:3217500812")
        response = post(client, receipt_url("tencent"), [tencent_receipt(status="FAIL", code="MK:0001")])
        assert response.status_code == 200 and response.json() == {"result": 0, "errmsg": "OK"}
        message = reloaded(message)
        assert message.status == SmsMessage.Status.FAILED and message.failed_at is not None
        assert message.receipt_code == "MK:0001" and "MK:0001" in message.last_error

    def test_one_callback_carries_several_receipts(self, client, receipts_on):
        delivered = sent_message("tencent", "sid-1")
        failed = sent_message("tencent", "sid-2")
        payload = [tencent_receipt(sid="sid-1"), tencent_receipt(sid="sid-2", status="FAIL", code="UNDELIV")]
        assert post(client, receipt_url("tencent"), payload).status_code == 200
        assert reloaded(delivered).status == SmsMessage.Status.DELIVERED
        assert reloaded(failed).status == SmsMessage.Status.FAILED

    def test_a_callback_with_new_and_already_recorded_receipts_records_the_new_ones(self, client, receipts_on):
        first = sent_message("aliyun", "a^0")
        second = sent_message("aliyun", "b^0")
        post(client, receipt_url("aliyun"), [aliyun_receipt(biz_id="a^0")])
        payload = [aliyun_receipt(biz_id="a^0"), aliyun_receipt(biz_id="b^0")]
        assert post(client, receipt_url("aliyun"), payload).status_code == 200
        assert reloaded(first).status == reloaded(second).status == SmsMessage.Status.DELIVERED
        assert SmsReceipt.objects.count() == 2

    def test_a_receipt_for_a_message_that_already_failed_is_recorded_but_changes_nothing(self, client, receipts_on):
        message = sent_message("aliyun", "900619746936498440^0")
        SmsMessage.objects.filter(pk=message.pk).update(status=SmsMessage.Status.FAILED)
        assert post(client, receipt_url("aliyun"), [aliyun_receipt()]).status_code == 200
        assert reloaded(message).status == SmsMessage.Status.FAILED and reloaded(message).delivered_at is None
        assert SmsReceipt.objects.get().delivered is True


def test_console_backend_writes_to_the_stream_it_is_given():
    stream = io.StringIO()
    message = SmsMessage(pk=7, to=PHONE, template="verification_code", body="您的验证码是123456。")
    assert console.SmsBackend(stream).send(message).startswith("console-")
    assert "您的验证码是123456。" in stream.getvalue() and "message 7" in stream.getvalue()


# -- settings checks ---------------------------------------------------------------------------


def ids(problems) -> list[str]:
    return [problem.id for problem in problems]


def test_a_provider_without_its_keys_is_an_error(settings):
    from mediation.sms.checks import check_sms_backend

    settings.SMS_BACKEND = "tencent"
    settings.SMS_TENCENT_SECRET_ID = settings.SMS_TENCENT_SECRET_KEY = ""
    from mediation.sms.templates import TEMPLATES

    settings.SMS_TENCENT_TEMPLATES = dict.fromkeys(TEMPLATES, "1794311")
    problems = check_sms_backend(None)
    assert ids(problems) == ["mediation.sms.E002", "mediation.sms.E003"]
    assert "SMS_TENCENT_SECRET_ID" in problems[0].msg


def test_a_template_the_provider_map_lacks_is_named(settings):
    from mediation.sms.checks import check_sms_backend

    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "key"
    settings.SMS_ALIYUN_SIGN_NAME = "石景山法院"
    settings.SMS_ALIYUN_TEMPLATES = {}
    [problem] = check_sms_backend(None)
    assert problem.id == "mediation.sms.W001" and "verification_code" in problem.msg
    settings.SMS_ALIYUN_TEMPLATES = {"verification_code": "SMS_460755123"}
    assert [p for p in check_sms_backend(None) if "verification_code" in p.msg] == []


def test_an_unknown_backend_is_an_error(settings):
    from mediation.sms.checks import check_sms_backend

    settings.SMS_BACKEND = "carrier-pigeon"
    assert ids(check_sms_backend(None)) == ["mediation.sms.E001"]


def test_deploy_checks_warn_of_a_development_transport_and_a_weak_receipt_secret(settings):
    from mediation.sms.checks import check_sms_for_deployment

    settings.SMS_BACKEND = "console"
    assert ids(check_sms_for_deployment(None)) == ["mediation.sms.W002"]
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_RECEIPT_TOKEN = "short"
    assert ids(check_sms_for_deployment(None)) == ["mediation.sms.W003"]
    settings.SMS_RECEIPT_TOKEN = TOKEN
    assert check_sms_for_deployment(None) == []


# -- secrets in the record --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sent_code_is_kept_in_the_record_only_masked(sms_outbox, django_capture_on_commit_callbacks):
    message = queue(code="654321", capture=django_capture_on_commit_callbacks)
    [sent] = sms_outbox
    assert "654321" in sent.body  # what the phone received
    stored = reloaded(message)
    assert stored.status == SmsMessage.Status.SENT
    assert "654321" not in stored.body and "654321" not in json.dumps(stored.params)
    assert stored.params == {"code": "******", "minutes": 5} and "******" in stored.body


@pytest.mark.django_db
def test_a_code_waiting_for_a_retry_is_kept_until_it_fails_for_good(
    settings, failing_transport, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SMS_MAX_ATTEMPTS = 2
    message = queue(code="654321", capture=django_capture_on_commit_callbacks)
    assert reloaded(message).params["code"] == "654321"  # needed for the next attempt
    monkeypatch.setattr("mediation.sms.timezone.now", at(reloaded(message).next_attempt_at))
    deliver()
    failed = reloaded(message)
    assert failed.status == SmsMessage.Status.FAILED and "654321" not in failed.body + json.dumps(failed.params)


@pytest.mark.django_db
def test_the_operator_sees_deliveries_with_numbers_masked_and_no_queued_code(
    admin_client, failing_transport, django_capture_on_commit_callbacks
):
    queued = queue(code="654321", capture=django_capture_on_commit_callbacks)
    listing = admin_client.get(reverse("admin:mediation_smsmessage_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "138****8000" in page and "13800138000" not in page and "+8613800138000" not in page
    detail = admin_client.get(reverse("admin:mediation_smsmessage_change", args=[queued.pk])).content.decode()
    assert "654321" not in detail and "isp.SYSTEM_ERROR" in detail


@pytest.mark.django_db
def test_the_receipt_secret_never_reaches_the_log(client, receipts_on, settings):
    import logging

    root = logging.getLogger()
    [console_handler] = [h for h in root.handlers if getattr(h, "name", "") == "console"]
    # What the console handler writes, through its own filters, into a string (its
    # stream may be one pytest has already closed: it is not swapped).
    stream = io.StringIO()
    copy = logging.StreamHandler(stream)
    copy.setFormatter(console_handler.formatter)
    for each in console_handler.filters:
        copy.addFilter(each)
    root.addHandler(copy)
    try:
        message = sent_message("aliyun", "900619746936498440^0")
        post(client, receipt_url("aliyun"), [aliyun_receipt()])
        replay = post(client, receipt_url("aliyun"), [aliyun_receipt()])  # refused: Django logs the path
    finally:
        root.removeHandler(copy)
    assert replay.status_code == 400 and reloaded(message).status == SmsMessage.Status.DELIVERED
    logged = stream.getvalue()
    assert "Bad Request: /sms/receipts/aliyun/[SMS_RECEIPT_TOKEN]/" in logged
    assert settings.SMS_RECEIPT_TOKEN not in logged
