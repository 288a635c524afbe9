from django.core.management.base import BaseCommand, CommandError

from authorities.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into the database, which must be "
        "empty (authorities/backups.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup to restore.")

    def handle(self, *args, path, **options):
        try:
            restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"]:
            self.stdout.write(f"Restored from {path}")
