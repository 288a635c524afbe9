from collections import defaultdict

from django.db import migrations, models
from django.db.models import Count, Q


def count_checklists(apps, schema_editor):
    """Each checklist's counts as AssessmentQuerySet.recount() keeps them:
    its bank's questions asked of its plan's programme (those naming it and
    those naming none), answers not carried forward, serious concerns."""
    db = schema_editor.connection.alias
    Assessment = apps.get_model("plans", "Assessment")
    Answer = apps.get_model("plans", "Answer")
    Question = apps.get_model("plans", "Question")
    answers = {
        row["assessment"]: row
        for row in Answer.objects.using(db)
        .order_by()
        .values("assessment")
        .annotate(
            answered=Count("pk", filter=Q(carried_forward=False)),
            serious=Count("pk", filter=Q(concern="serious")),
        )
    }
    named = defaultdict(set)
    for question, programme in Question.programmes.through.objects.using(db).values_list(
        "question_id", "programme_id"
    ):
        named[question].add(programme)
    banks = defaultdict(list)
    for question, bank in Question.objects.using(db).values_list("pk", "question_set_id"):
        banks[bank].append(question)
    assessments = list(Assessment.objects.using(db).select_related("plan"))
    for assessment in assessments:
        programme = assessment.plan.programme_id
        assessment.question_count = sum(
            1 for q in banks[assessment.question_set_id] if not named[q] or programme in named[q]
        )
        counted = answers.get(assessment.pk, {})
        assessment.answered_count = counted.get("answered", 0)
        assessment.serious_count = counted.get("serious", 0)
    Assessment.objects.using(db).bulk_update(
        assessments, ["question_count", "answered_count", "serious_count"], batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0008_question_plain_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="answered_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="assessment",
            name="question_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="assessment",
            name="serious_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_checklists, migrations.RunPython.noop),
    ]
