from django.forms.renderers import DjangoTemplates


class PlatformFormRenderer(DjangoTemplates):
    """Django's renderer, with each field's label, help, errors and widget kept
    together in one element, so that grids lay out fields rather than their parts."""

    field_template_name = "forms/field.html"
