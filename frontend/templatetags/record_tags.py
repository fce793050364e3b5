"""The case page's mediation records (调解笔录), so that mediation's own code never
imports the documents app."""

from django import template

from documents.services import mediation_records

register = template.Library()


@register.simple_tag
def mediation_record_panel(case, user):
    """What the case page shows of the mediation records to this reader, or None: for
    the mediator every session that can have a record, with its record's state; for
    anyone else the records they may read (sent, and a caucus's only to its side and
    the court)."""
    visible = {record.session_id: record for record in mediation_records.visible_records(user, case)}
    may_write = mediation_records.may_write(user, case)
    rows = []
    if may_write:
        for session in mediation_records.sessions_to_record(case):
            rows.append({"session": session, "record": visible.get(session.pk)})
    else:
        rows = [{"session": record.session, "record": record} for record in visible.values()]
    if not rows:
        return None
    return {"rows": rows, "may_write": may_write}
