from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages

ASK_TO_CHANGE = "Ask a national officer to change your e-mail address."


def is_login_address(user, email):
    """Whether `email` is the address `user` signs in with: User.email, which
    only a national officer changes (in the admin). allauth also signs in and
    sends reset links to any address in its EmailAddress table, which may hold
    others: ones added on the e-mail page before it closed, or the old address
    left behind when the admin changed it. Those must open nothing."""
    return bool(email) and user.email.lower() == email.strip().lower()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Nobody signs themselves up: a national officer creates each person
        (in the Django admin) and they set a password by the reset link."""
        return False

    def authenticate(self, request, **credentials):
        """A right password for an address other than the person's login
        address is a failed sign-in, counted towards the lockout like any."""
        user = super().authenticate(request, **credentials)
        login = credentials.get("email") or credentials.get("username")
        if user is None or is_login_address(user, login):
            return user
        # super() gave back the failure it counted, the password being right.
        self.pre_authenticate(request, **credentials)
        self.authentication_failed(request, **credentials)
        return None

    def send_password_reset_mail(self, user, email, context):
        """A reset link goes only to the address the person signs in with."""
        if is_login_address(user, email):
            super().send_password_reset_mail(user, email, context)

    def confirm_email(self, request, email_address):
        """Confirming an address makes it the login when the person has no
        primary one, so only their login address may be confirmed."""
        if is_login_address(email_address.user, email_address.email):
            return super().confirm_email(request, email_address)
        self.add_message(request, messages.ERROR, message=ASK_TO_CHANGE)
        return False
