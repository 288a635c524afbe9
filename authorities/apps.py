from django.apps import AppConfig


class AuthoritiesConfig(AppConfig):
    name = "authorities"
    verbose_name = "Authorities and people"

    def ready(self):
        from . import audit, caching

        caching.connect()
        audit.connect()
