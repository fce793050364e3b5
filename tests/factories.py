"""Factories for the test suite. Work orders are created through the intake service,
so their deadlines, timeline and audit entries are real."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from mediation.models import Department, User, WorkOrder
from mediation.roles import Role
from mediation.services import work_orders as services

PASSWORD = "correct-horse-battery"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"dept-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get_or_create(name=role)[0])


def staff(role: Role, department: Department | None = None, **fields) -> User:
    return UserFactory(roles=[role], department=department, **fields)


class WorkOrderFactory(factory.Factory):
    """Build the intake arguments; `create` records the order through the service."""

    class Meta:
        model = dict

    channel = "hotline"
    category = "contact_judge"
    requester_name = factory.Sequence(lambda n: f"Requester {n}")
    requester_phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    content = "Please ask the judge to call me back."
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=5))

    @classmethod
    def _create(cls, model_class, **kwargs):
        order, _created = services.receive_work_order(actor=None, **kwargs)
        return order

    @classmethod
    def _build(cls, model_class, **kwargs):
        return kwargs


def refresh(order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)
