"""Alibaba Cloud SMS (阿里云短信服务) through its official SDK,
alibabacloud-dysmsapi20170525: one SendSms call per message, with the sign name, the
registered template code mapped from ours (SMS_ALIYUN_TEMPLATES) and the parameters
as a JSON object whose names are the template's ${variables}.

The provider's answer decides what happens next: "OK" is sent (BizId is the id its
delivery receipt names); an error that retrying cannot cure (a wrong number, a
template or signature the provider refuses, a parameter it rejects) fails the message
at once; anything else (throttling, an account limit, the provider or network being
down, keys being wrong until an operator fixes them) is retried with backoff."""

from __future__ import annotations

import json

from django.conf import settings

from mediation.sms import SmsNotSent
from mediation.sms.backends.providers import aliyun_number, template_of

PROVIDER = "aliyun"
SENT = "OK"
# Error codes after which the same request can never succeed.
PERMANENT_ERRORS = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.EXTEND_CODE_ERROR",
    }
)


def make_client():
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    return Client(
        Config(
            access_key_id=settings.SMS_ALIYUN_ACCESS_KEY_ID,
            access_key_secret=settings.SMS_ALIYUN_ACCESS_KEY_SECRET,
            endpoint=settings.SMS_ALIYUN_ENDPOINT,
            connect_timeout=settings.SMS_TIMEOUT_SECONDS * 1000,
            read_timeout=settings.SMS_TIMEOUT_SECONDS * 1000,
        )
    )


class SmsBackend:
    def __init__(self, client=None):
        self.client = client or make_client()

    @staticmethod
    def describe() -> str:
        return f"SMS are sent through Alibaba Cloud SMS, signed “{settings.SMS_ALIYUN_SIGN_NAME}” (SMS_BACKEND=aliyun)."

    def request_for(self, message):
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        return SendSmsRequest(
            phone_numbers=aliyun_number(message.to),
            sign_name=settings.SMS_ALIYUN_SIGN_NAME,
            template_code=template_of("SMS_ALIYUN_TEMPLATES", message.template),
            template_param=json.dumps(
                {name: str(value) for name, value in message.params.items()},
                ensure_ascii=False,
                separators=(",", ":"),
                sort_keys=True,
            ),
            # Echoed in the delivery receipt (out_id): our row, for the record.
            out_id=str(message.pk),
        )

    def send(self, message) -> str:
        from darabonba.runtime import RuntimeOptions
        from Tea.exceptions import TeaException

        request = self.request_for(message)
        # No retries inside the SDK: mediation.sms retries with backoff, as a row.
        runtime = RuntimeOptions(autoretry=False, max_attempts=1)
        try:
            response = self.client.send_sms_with_options(request, runtime)
        except TeaException as exc:
            code = str(getattr(exc, "code", "") or type(exc).__name__)
            raise SmsNotSent(
                f"{code}: {getattr(exc, 'message', exc)}", permanent=code in PERMANENT_ERRORS, code=code
            ) from exc
        body = response.body
        if body.code != SENT:
            raise SmsNotSent(f"{body.code}: {body.message}", permanent=body.code in PERMANENT_ERRORS, code=body.code)
        return body.biz_id
