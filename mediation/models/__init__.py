from .accounts import Department, IdentityCheck, IdentityLevel, User
from .applications import Application
from .audit import AuditChainHead, AuditEntry
from .calendar import CalendarDay, CalendarYear
from .cases import (
    CaseDeadlineAlert,
    CaseEvent,
    CaseSupervisionNotice,
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
from .organisation import Delegation, MediationOrganisation, MediatorProfile, MediatorSpecialty, RecusalRequest
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
    "CaseDeadlineAlert",
    "CaseEvent",
    "CaseSupervisionNotice",
    "DeadlineAlert",
    "DeadlineExtension",
    "DeadlinePolicy",
    "Delegation",
    "Department",
    "IdentityCheck",
    "IdentityLevel",
    "Invitation",
    "MediationCase",
    "MediationOrganisation",
    "MediationSession",
    "MediatorProfile",
    "MediatorSpecialty",
    "Notification",
    "NotificationPreference",
    "NumberSequence",
    "Participant",
    "ParticipantRole",
    "Party",
    "PhoneCode",
    "RecusalRequest",
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
