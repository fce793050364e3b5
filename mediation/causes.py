"""Causes of action (民事案由) the roster's specialties and filters name. A case's own
cause of action stays free text (what the referrer wrote); it matches a specialty
when it names it (`matches`), so "房屋租赁合同纠纷" matches a specialist in
"租赁合同纠纷". The names are the official Chinese terms; English readers see the
label beside them."""

from django.utils.translation import gettext_lazy as _

CAUSES_OF_ACTION = {
    "民间借贷纠纷": _("Private lending dispute"),
    "金融借款合同纠纷": _("Bank loan contract dispute"),
    "买卖合同纠纷": _("Sale contract dispute"),
    "租赁合同纠纷": _("Lease contract dispute"),
    "物业服务合同纠纷": _("Property services contract dispute"),
    "建设工程合同纠纷": _("Construction contract dispute"),
    "劳务合同纠纷": _("Labour services contract dispute"),
    "劳动争议": _("Labour dispute"),
    "婚姻家庭纠纷": _("Marriage and family dispute"),
    "继承纠纷": _("Inheritance dispute"),
    "相邻关系纠纷": _("Neighbour dispute"),
    "机动车交通事故责任纠纷": _("Road traffic accident liability dispute"),
    "医疗损害责任纠纷": _("Medical damage liability dispute"),
    "消费者权益纠纷": _("Consumer rights dispute"),
    "知识产权纠纷": _("Intellectual property dispute"),
    "合同纠纷": _("Contract dispute"),
}


def label(cause: str) -> str:
    """ "买卖合同纠纷 (Sale contract dispute)" in English, the Chinese name alone in Chinese."""
    from django.utils.translation import get_language

    english = CAUSES_OF_ACTION.get(cause)
    if english is None or (get_language() or "").startswith("zh"):
        return cause
    return f"{cause} ({english})"


def matches(case_cause: str, specialty: str) -> bool:
    """Whether a case's cause of action falls under a specialty."""
    case_cause = case_cause.strip()
    return bool(case_cause) and (specialty in case_cause or case_cause in specialty)
