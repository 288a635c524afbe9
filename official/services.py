"""What official statistics write elsewhere: an official figure linked as
evidence on a checklist answer."""

from django.db import transaction

from plans.models import EvidenceLink


@transaction.atomic
def link_figure_as_evidence(*, answer, evidence, user):
    """Add `evidence` (presenters.FigureEvidence) to `answer`'s evidence
    links, once: the same figure of the same release linked again adds
    nothing. Returns whether a link was added."""
    if answer.links.filter(url=evidence.url, title=evidence.title).exists():
        return False
    EvidenceLink.objects.create(
        answer=answer,
        url=evidence.url,
        title=evidence.title,
        location=evidence.location,
        added_by=user,
    )
    return True
