from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Nobody signs themselves up: a national officer creates each person
        (in the Django admin) and they set a password by the reset link."""
        return False
