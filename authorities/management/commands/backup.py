from django.core.management.base import BaseCommand, CommandError

from authorities.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database to a file: SQLite with its online backup API, "
        "PostgreSQL with pg_dump's custom format (authorities/backups.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to write.")

    def handle(self, *args, path, **options):
        try:
            backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"]:
            self.stdout.write(f"Backed up to {path}")
