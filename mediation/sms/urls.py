from django.urls import re_path

from mediation.sms.views import sms_receipt

urlpatterns = [
    # The secret segment is optional in the pattern so that a callback without it is
    # answered 403 (refused), not 404.
    re_path(
        r"^sms/receipts/(?P<provider>aliyun|tencent)/(?:(?P<token>[^/]{1,200})/)?$",
        sms_receipt,
        name="sms_receipt",
    ),
]
