"""The dispatch and close forms as the general liaison meets them: the judge list
follows the department, a confirmation is asked only of a complete form, and the
confirmed outcome starts from what the system proposes."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from mediation.models import WorkOrder
from mediation.services import cases, work_orders
from tests.factories import refresh
from tests.workflows import order_in_state

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status
PLATFORM_JS = Path(settings.BASE_DIR) / "frontend" / "static" / "js" / "platform.js"


def detail(client, order):
    return client.get(reverse("work_order_detail", args=[order.number]))


def test_dispatch_refuses_a_judge_of_another_department_as_a_choice(client, people, civil):
    order = order_in_state(Status.RECEIVED, people)
    client.force_login(people["liaison"])
    response = client.post(
        reverse("work_order_action", args=[order.number, "dispatch"]),
        {"dispatch-department": civil.pk, "dispatch-assignee": people["outside_judge"].pk},
    )
    assert response.status_code == 400
    assert "assignee" in response.context["action_forms"]["dispatch"].errors
    assert refresh(order).status == Status.RECEIVED


def test_dispatch_lists_judges_with_their_department_for_the_page_to_narrow(client, people, civil):
    order = order_in_state(Status.RECEIVED, people)
    client.force_login(people["liaison"])
    form = detail(client, order).context["action_forms"]["dispatch"]
    html = str(form["assignee"])
    assert 'data-follows="department"' in html
    assert f'value="{people["judge"].pk}" data-department="{civil.pk}"' in html
    outside = people["outside_judge"]
    assert f'value="{outside.pk}" data-department="{outside.department_id}"' in html


def test_redispatch_offers_only_the_judges_of_the_orders_department(client, people, civil):
    order = order_in_state(Status.RETURNED, people)
    client.force_login(people["liaison"])
    form = detail(client, order).context["action_forms"]["dispatch"]
    offered = set(form.fields["assignee"].queryset)
    assert people["judge"] in offered and people["outside_judge"] not in offered


def test_close_form_starts_from_the_proposed_outcome(client, people):
    order = order_in_state(Status.AWAITING_CONFIRMATION, people)
    client.force_login(people["liaison"])
    form = detail(client, order).context["action_forms"]["close"]
    assert form["outcome"].value() == "We called back."


def test_close_form_starts_from_the_answer_the_requester_was_given_after_a_settlement(client, people):
    """A settlement tells the requester nothing by itself: the judge calls and records
    the answer, and the close form starts from that answer."""
    order = order_in_state(Status.IN_PROGRESS, people)
    case = cases.refer_to_mediation(
        order=order, actor=people["judge"], mediator=people["mediator"], cause_of_action="合同纠纷"
    )
    cases.start_mediation(case=case, actor=people["mediator"])
    cases.settle_case(case=refresh_case(case), actor=people["mediator"], note="双方达成还款协议")
    work_orders.reply_to_requester(
        order=refresh(order), actor=people["judge"], content="已电话告知：双方达成还款协议", channel="phone"
    )
    work_orders.submit_for_confirmation(order=refresh(order), actor=people["dept_liaison"])
    client.force_login(people["liaison"])
    form = detail(client, refresh(order)).context["action_forms"]["close"]
    assert form["outcome"].value() == "已电话告知：双方达成还款协议"
    assert "已电话告知：双方达成还款协议</textarea>" in str(form["outcome"])


def refresh_case(case):
    return type(case).objects.get(pk=case.pk)


# The page's script, run in node against a minimal stand-in for the browser's DOM.
HARNESS = r"""
const fs = require("fs");
const handlers = {};
let asked = 0;
global.window = { confirm: () => { asked += 1; return true; } };
global.document = {
  readyState: "complete",
  addEventListener: (type, fn) => { (handlers[type] = handlers[type] || []).push(fn); },
  querySelectorAll: () => global.selects || [],
};
function option(value, department) {
  const attrs = department === null ? {} : { "data-department": department };
  const getAttribute = (k) => (k in attrs ? attrs[k] : null);
  return { value, hidden: false, disabled: false, selected: false, getAttribute };
}
const leader = { value: "" };
const options = [option("", null), option("7", "1"), option("8", "2")];
const attrs = { "data-follows": "department" };
const select = {
  name: "dispatch-assignee", options, value: "",
  getAttribute: (k) => (k in attrs ? attrs[k] : null),
  setAttribute: (k, v) => { attrs[k] = v; },
  form: { elements: { namedItem: (n) => (n === "dispatch-department" ? leader : null) } },
};
global.selects = [select];
eval(fs.readFileSync(process.argv[1], "utf8"));
function submit(valid) {
  let prevented = false;
  const event = {
    submitter: { getAttribute: (k) => (k === "data-confirm" ? "Close this order?" : null) },
    target: { checkValidity: () => valid },
    preventDefault: () => { prevented = true; }, defaultPrevented: false,
  };
  (handlers.submit || []).forEach((fn) => fn(event));
  return prevented;
}
const result = {};
submit(false);
result.askedWhenIncomplete = asked;
submit(true);
result.askedWhenComplete = asked - result.askedWhenIncomplete;
result.hiddenBeforeChoice = options.map((o) => o.hidden);
leader.value = "1";
(handlers.change || []).forEach((fn) => fn({ target: leader }));
result.hiddenAfterChoice = options.map((o) => o.hidden);
console.log(JSON.stringify(result));
"""


@pytest.fixture
def page_script():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")

    def run() -> dict:
        out = subprocess.run([node, "-e", HARNESS, str(PLATFORM_JS)], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    return run


@pytest.mark.django_db(False)
def test_confirmation_is_asked_only_once_the_form_is_complete(page_script):
    result = page_script()
    assert (result["askedWhenIncomplete"], result["askedWhenComplete"]) == (0, 1)


@pytest.mark.django_db(False)
def test_the_judge_list_narrows_to_the_chosen_department(page_script):
    result = page_script()
    assert result["hiddenBeforeChoice"] == [False, True, True]
    assert result["hiddenAfterChoice"] == [False, False, True]
