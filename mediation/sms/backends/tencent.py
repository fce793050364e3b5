"""Tencent Cloud SMS (腾讯云短信) through its official SDK,
tencentcloud-sdk-python-sms (API 2021-01-11): one SendSms call per message, with the
SmsSdkAppId, the sign name, the registered template id mapped from ours and the
parameters as the ordered list the template's {1}, {2}... take
(SMS_TENCENT_TEMPLATES names the order), the number in E.164 with "+".

The answer for the number decides what happens next: "Ok" is sent (SerialNo is the
id its delivery receipt names as sid); an error that retrying cannot cure (a wrong
number, a refused template or signature, a blacklisted number) fails the message at
once; anything else (LimitExceeded.* throttling, an exhausted package, an internal or
network error, keys being wrong until an operator fixes them) is retried with backoff."""

from __future__ import annotations

from django.conf import settings

from mediation.sms import SmsNotSent
from mediation.sms.backends.providers import e164, template_of

PROVIDER = "tencent"
SENT = "Ok"
PERMANENT_ERRORS = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "InvalidParameterValue.TemplateParameterFormatError",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        "InvalidParameterValue.ContentLengthLimit",
        "InvalidParameterValue.SdkAppIdNotExist",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.ContainSensitiveWord",
        "FailedOperation.FailResolvePacket",
        "MissingParameter.EmptyPhoneNumberSet",
        "UnsupportedOperation.UnsupportedRegion",
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    }
)


def make_client():
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import sms_client

    http = HttpProfile(endpoint=settings.SMS_TENCENT_ENDPOINT, reqTimeout=settings.SMS_TIMEOUT_SECONDS)
    return sms_client.SmsClient(
        credential.Credential(settings.SMS_TENCENT_SECRET_ID, settings.SMS_TENCENT_SECRET_KEY),
        settings.SMS_TENCENT_REGION,
        ClientProfile(httpProfile=http),
    )


class SmsBackend:
    def __init__(self, client=None):
        self.client = client or make_client()

    @staticmethod
    def describe() -> str:
        return (
            f"SMS are sent through Tencent Cloud SMS, signed “{settings.SMS_TENCENT_SIGN_NAME}” (SMS_BACKEND=tencent)."
        )

    def request_for(self, message):
        from tencentcloud.sms.v20210111.models import SendSmsRequest

        template = template_of("SMS_TENCENT_TEMPLATES", message.template)
        missing = [name for name in template["params"] if name not in message.params]
        if missing:
            raise SmsNotSent(
                f"template {message.template!r} has no value for {', '.join(missing)}",
                permanent=True,
                code="template_params",
            )
        request = SendSmsRequest()
        request.SmsSdkAppId = settings.SMS_TENCENT_SDK_APP_ID
        request.SignName = settings.SMS_TENCENT_SIGN_NAME
        request.TemplateId = str(template["id"])
        request.TemplateParamSet = [str(message.params[name]) for name in template["params"]]
        request.PhoneNumberSet = [e164(message.to)]
        # Echoed in the answer: our row, for the record.
        request.SessionContext = str(message.pk)
        return request

    def send(self, message) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        request = self.request_for(message)
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = str(exc.code or "")
            raise SmsNotSent(f"{code}: {exc.message}", permanent=code in PERMANENT_ERRORS, code=code) from exc
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SmsNotSent("the answer names no number", code="empty_answer")
        status = statuses[0]
        if status.Code != SENT:
            raise SmsNotSent(
                f"{status.Code}: {status.Message}", permanent=status.Code in PERMANENT_ERRORS, code=status.Code
            )
        return status.SerialNo
