from django.core.management.base import BaseCommand

from authorities.backups import fingerprints


class Command(BaseCommand):
    help = (
        "Print each table's row count and a checksum of its rows: two databases "
        "that print the same hold the same data (to check a restore)."
    )

    def handle(self, *args, **options):
        for table, (rows, digest) in fingerprints().items():
            self.stdout.write(f"{table}\t{rows}\t{digest}")
