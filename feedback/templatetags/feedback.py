from django import template

register = template.Library()


@register.filter
def for_question(texts, question):
    """The plan page's evidence text for one question (see
    aggregates.evidence_by_question), or ""."""
    return (texts or {}).get(question.pk, "")
