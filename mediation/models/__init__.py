from .accounts import Department, IdentityCheck, IdentityLevel, User
from .applications import Application
from .audit import AuditChainHead, AuditEntry
from .calendar import CalendarDay, CalendarYear
from .cases import (
    CaseEvent,
    DeadlineExtension,
    Invitation,
    MediationCase,
    MediationSession,
    Participant,
    ParticipantRole,
    Party,
    RoomKind,
    Side,
    side_label,
)
from .figures import WorkOrderTally
from .integration import ApiToken, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .messaging import PhoneCode, SmsMessage, SmsReceipt
from .notifications import Notification, NotificationPreference, SessionReminder
from .numbering import NumberSequence
from .work_orders import (
    DeadlineAlert,
    DeadlinePolicy,
    ReturnVisit,
    SupervisionNotice,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderReply,
)

__all__ = [
    "ApiToken",
    "Application",
    "AuditChainHead",
    "AuditEntry",
    "CalendarDay",
    "CalendarYear",
    "CaseEvent",
    "DeadlineAlert",
    "DeadlineExtension",
    "DeadlinePolicy",
    "Department",
    "IdentityCheck",
    "IdentityLevel",
    "Invitation",
    "MediationCase",
    "MediationSession",
    "Notification",
    "NotificationPreference",
    "NumberSequence",
    "Participant",
    "ParticipantRole",
    "Party",
    "PhoneCode",
    "ReturnVisit",
    "RoomKind",
    "SessionReminder",
    "Side",
    "SmsMessage",
    "SmsReceipt",
    "SupervisionNotice",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderReply",
    "WorkOrderTally",
    "side_label",
]
