from functools import cache

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.core.exceptions import ValidationError
from django.db import connection

from .mfa import has_second_step_subquery
from .models import User

# Stands for the person's id while the query is built (no id is negative).
_ANY_ID = -1


@cache
def _person_query(vendor):
    """The SQL of User.objects.with_held() for one person, with
    whether they have a second step to sign in with (authorities/mfa.py asks
    on every page for those who must), built once per process and database:
    the ORM takes longer to build it (its subqueries) than the database to
    answer it, on every request."""
    people = User.objects.with_held().annotate(has_second_step=has_second_step_subquery())
    query = people.filter(pk=_ANY_ID).order_by().query
    sql, params = query.sql_with_params()
    return sql, params, params.index(_ANY_ID)


class AuthenticationBackend(AllauthBackend):
    """allauth's login by e-mail, loading the signed-in person on each request
    together with their memberships (User.held) and whether they have a
    second step: every page's menu asks for their roles, every scoped query
    for what they cover, and the two-step middleware for the second step,
    and this way none costs a query of its own."""

    def get_user(self, user_id):
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        sql, params, at = _person_query(connection.vendor)
        params = (*params[:at], pk, *params[at + 1 :])
        user = next(iter(User.objects.raw(sql, params)), None)
        return user if user is not None and self.user_can_authenticate(user) else None
