from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from .models import User


class AuthenticationBackend(AllauthBackend):
    """allauth's login by e-mail, loading the signed-in person on each request
    together with their national and regional roles (User.wide_roles): every
    page's menu asks for them, and this way it costs no query of its own."""

    def get_user(self, user_id):
        user = User.objects.with_wide_roles().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
