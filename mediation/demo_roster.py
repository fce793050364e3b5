"""The demo roster (called from `mediation.demo.seed`): the court's own mediation
centre with the demo mediator, a people's mediation committee and a commercial
mediation centre, each with an admin account and mediators with specialties, terms
and biographies, all published, so that /mediators/ is filled. Made through the
roster's services (the general liaison acts), so the audit trail is real.
Idempotent: organisations are looked up by name, people by email. Every name here
is made up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from mediation.models import MediationOrganisation, MediatorProfile, User
from mediation.roles import Role
from mediation.services import roster

Kind = MediationOrganisation.Kind


@dataclass(frozen=True)
class DemoMediator:
    email: str
    full_name: str
    title: str
    specialties: tuple[str, ...]
    biography: str
    languages: str = "普通话"
    fee: str = ""


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: str
    region: str
    description: str
    contact_name: str
    contact_phone: str
    admin: tuple[str, str] | None  # (email, full name)
    mediators: tuple[DemoMediator, ...] = field(default_factory=tuple)


COURT_CENTRE = DemoOrganisation(
    name="朝阳区人民法院诉调对接中心",
    kind=Kind.COURT,
    region="北京市朝阳区",
    description="本院诉讼服务中心的调解团队，负责诉前调解案件的分流、委派和直接调解。",
    contact_name="李静",
    contact_phone="010-65000001",
    admin=None,
)

ORGANISATIONS = [
    DemoOrganisation(
        name="朝阳区八里庄街道人民调解委员会",
        kind=Kind.PEOPLES_COMMITTEE,
        region="北京市朝阳区",
        description="扎根社区二十余年，擅长邻里、家庭和物业纠纷的调解，调解不收费。",
        contact_name="王红梅",
        contact_phone="010-65000002",
        admin=("committee.admin@demo.court", "王红梅"),
        mediators=(
            DemoMediator(
                "mediator.ma@demo.court",
                "马建国",
                "退休法官",
                ("相邻关系纠纷", "婚姻家庭纠纷", "继承纠纷"),
                "在基层法院从事民事审判三十年，退休后担任人民调解员，熟悉家事与邻里纠纷。",
            ),
            DemoMediator(
                "mediator.yang@demo.court",
                "杨秀兰",
                "人民调解员",
                ("物业服务合同纠纷", "租赁合同纠纷"),
                "社区工作者出身，调解物业费、房屋租赁纠纷数百件。",
                languages="普通话、北京话",
            ),
            DemoMediator(
                "mediator.zhao@demo.court",
                "赵德明",
                "劳动关系协调员",
                ("劳动争议", "劳务合同纠纷"),
                "曾任企业人力资源主管，熟悉劳动合同与工资争议。",
            ),
        ),
    ),
    DemoOrganisation(
        name="北京华商国际商事调解中心",
        kind=Kind.COMMERCIAL,
        region="北京市东城区",
        description="面向企业的商事调解机构，调解员均为执业律师或资深法务，按件收费。",
        contact_name="郑晓燕",
        contact_phone="010-85000003",
        admin=("centre.admin@demo.court", "郑晓燕"),
        mediators=(
            DemoMediator(
                "mediator.lin@demo.court",
                "林志远",
                "律师",
                ("买卖合同纠纷", "合同纠纷", "金融借款合同纠纷"),
                "执业律师十八年，专注商事合同纠纷，曾任多家企业法律顾问。",
                fee="每件 3000 元起，由双方平均负担",
            ),
            DemoMediator(
                "mediator.he@demo.court",
                "何静",
                "知识产权律师",
                ("知识产权纠纷", "建设工程合同纠纷"),
                "知识产权与建设工程领域执业律师，可用英语调解涉外纠纷。",
                languages="普通话、English",
                fee="每件 5000 元起",
            ),
        ),
    ),
]


def _term() -> tuple[dt.date, dt.date]:
    """A three-year appointment that began at the start of last year."""
    today = timezone.localdate()
    return dt.date(today.year - 1, 1, 1), dt.date(today.year + 1, 12, 31)


def _user(email: str, full_name: str, role: Role, password: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, full_name=full_name)
        user.set_password(password)
        user.save()
    user.groups.add(Group.objects.get(name=role))
    # A fresh object: the role cache of the one above predates the group.
    return User.objects.get(pk=user.pk)


def _organisation(spec: DemoOrganisation, liaison: User) -> MediationOrganisation:
    existing = MediationOrganisation.objects.filter(name=spec.name).first()
    if existing is not None:
        return existing
    return roster.create_organisation(
        actor=liaison,
        name=spec.name,
        kind=spec.kind,
        region=spec.region,
        description=spec.description,
        contact_name=spec.contact_name,
        contact_phone=spec.contact_phone,
        is_published=True,
        is_active=True,
    )


def _appoint(user: User, organisation: MediationOrganisation, liaison: User, **profile) -> None:
    if MediatorProfile.objects.filter(user=user).exists():
        return
    starts_on, ends_on = _term()
    roster.appoint_mediator(
        actor=liaison,
        user=user,
        organisation=organisation,
        term_starts_on=starts_on,
        term_ends_on=ends_on,
        status=MediatorProfile.Status.ACTIVE,
        is_published=True,
        **profile,
    )


@transaction.atomic
def seed_roster(people: dict, password: str) -> int:
    """The demo roster; returns how many mediators the public roster lists."""
    liaison = people["liaison"]
    centre = _organisation(COURT_CENTRE, liaison)
    _appoint(
        people["mediator"],
        centre,
        liaison,
        title="法院专职调解员",
        region="北京市朝阳区",
        specialties=["合同纠纷", "民间借贷纠纷"],
        biography="诉讼服务中心专职调解员，负责诉前调解与委派案件的跟进。",
    )
    for spec in ORGANISATIONS:
        organisation = _organisation(spec, liaison)
        if spec.admin is not None:
            admin = _user(*spec.admin, Role.ORGANISATION_ADMIN, password)
            if not organisation.admins.filter(pk=admin.pk).exists():
                roster.add_organisation_admin(actor=liaison, organisation=organisation, user=admin)
        for mediator in spec.mediators:
            _appoint(
                _user(mediator.email, mediator.full_name, Role.MEDIATOR, password),
                organisation,
                liaison,
                title=mediator.title,
                region=spec.region,
                languages=mediator.languages,
                specialties=list(mediator.specialties),
                biography=mediator.biography,
                fee=mediator.fee,
            )
    from mediation.selectors.roster import public_profiles

    return public_profiles().count()


def roster_logins() -> list[tuple[str, str]]:
    logins = []
    for spec in ORGANISATIONS:
        if spec.admin is not None:
            logins.append((spec.admin[0], f"administrator of {spec.name}"))
        logins.extend((mediator.email, f"mediator of {spec.name}") for mediator in spec.mediators)
    return logins
