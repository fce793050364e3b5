from django.core.exceptions import ValidationError


def attach_errors(form, error: ValidationError) -> None:
    """Show a service's validation errors next to the fields they concern."""
    for field, field_messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
