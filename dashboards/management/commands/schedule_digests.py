from django.core.management.base import BaseCommand

from dashboards.digest import schedule


class Command(BaseCommand):
    help = (
        "Queue the daily digest's next run (dashboards/digest.py) unless one is "
        "already waiting. `make run` and `make serve` run it; the run queues the next."
    )

    def handle(self, *args, **options):
        queued = schedule()
        if options["verbosity"]:
            self.stdout.write(
                f"Digests queued for {queued.task.run_after:%Y-%m-%d %H:%M}"
                if queued
                else "A digest run is already waiting (or the task backend cannot wait)"
            )
