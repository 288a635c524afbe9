"""Authorities, regions, people and who in the union covers what.

Everything else in the app hangs off a `LocalAuthority` and is scoped by
`LocalAuthority.objects.for_user(user)`'s rule (each app's `for_user` writes it
into its rows' own query: `access.in_scope`): what a person may see is decided
in the query, so an out-of-scope object is simply not found (404), never leaked.
"""

from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import NamedTuple

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat, Lower, Replace
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .access import (
    AUTHORITY_ROLES,
    NATIONAL_ROLES,
    PERSON_WIDE,
    REGIONAL_ROLES,
    ROLES_THAT,
    WIDE_ROLES,
    AuthorityAccess,
    Can,
    Held,
    Role,
    covering,
    in_scope,
)
from .edits import AddressedHistory, Versioned

# Financial years are stored by the calendar year they start in (2024 is 2024-25).
FIRST_FINANCIAL_YEAR, LAST_FINANCIAL_YEAR = 2010, 2040


def financial_year_label(year):
    """2024 → "2024-25"; "" for an unknown year."""
    return f"{year}-{(year + 1) % 100:02d}" if year else ""


def _held(text):
    """access.Held from "role:region id:authority id" (UserQuerySet.with_held)."""
    role, region, authority = text.split(":")
    return Held(role, int(region) if region else None, int(authority) if authority else None)


class UserQuerySet(models.QuerySet):
    def with_held(self):
        """People with their memberships as plain values, in the same query
        (one string, "role:region id:authority id;…", that User.held reads)."""

        def id_or_nothing(field):
            return Coalesce(Cast(field, models.CharField()), Value(""))

        region, authority = id_or_nothing("region_id"), id_or_nothing("authority_id")
        one = Concat("role", Value(":"), region, Value(":"), authority)
        held = (
            Membership.objects.filter(user=OuterRef("pk"))
            .order_by()
            .values("user")
            .annotate(held=models.StringAgg(one, delimiter=Value(";")))
            .values("held")
        )
        return self.annotate(held_memberships=models.Subquery(held))

    def with_memberships(self, memberships=None):
        """People with their memberships and the places they cover, for
        `User.name_with_roles`: one query more however many people.
        `memberships` narrows which are read and shown (those that cover one
        authority, say): a person's other roles are not everyone's to see."""
        if memberships is None:
            memberships = Membership.objects.all()
        memberships = memberships.select_related("authority", "region").order_by()
        return self.prefetch_related(models.Prefetch("memberships", queryset=memberships))


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    """E-mail is the login, so users are created by e-mail, not username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(Versioned, AbstractUser):
    """A person who uses the app. Their scope comes from their memberships."""

    username = None
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["first_name", "last_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        # One spelling per address, so the case-insensitive constraint and
        # the login lookup agree.
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    @property
    def display_name(self):
        return self.get_full_name() or self.email

    @property
    def name_with_roles(self):
        """How a person is offered wherever one is chosen: "Sam Patel — Local
        negotiating secretary, Camden", each role with its place, so that two
        people of one name can be told apart. Reads the memberships loaded by
        `User.objects.with_memberships()` (a query per person without it)."""
        roles = sorted(self.memberships.all(), key=lambda m: m.role_order)
        held = "; ".join(m.role_and_place for m in roles)
        return f"{self.display_name} — {held}" if held else self.display_name

    @cached_property
    def held(self):
        """The person's memberships as plain values (access.Held), read once
        for the request (the request's user object keeps them): whether they
        see all of England, which authorities a scoped query covers
        (access.covering), what they may do at one (LocalAuthority.roles_of).
        The login backend (authorities/backends.py) loads them with the
        person, so on a page they cost no query at all; otherwise one query,
        kept like the rest of the object (a membership made later is seen
        when the person is next read, as on the next request)."""
        if hasattr(self, "held_memberships"):  # loaded by with_held()
            loaded = self.held_memberships or ""
            return tuple(_held(part) for part in loaded.split(";") if part)
        rows = self.memberships.values_list("role", "region_id", "authority_id")
        return tuple(Held(*row) for row in rows)

    @property
    def wide_roles(self):
        """The national and regional roles this person holds (User.held):
        whether they see all of England, and whether they see the overview,
        the latter on every page's menu."""
        return frozenset(held.role for held in self.held if held.role in WIDE_ROLES)

    @property
    def has_national_scope(self):
        """National officers and superusers see all of England."""
        return self.is_superuser or not self.wide_roles.isdisjoint(NATIONAL_ROLES)

    def may(self, can):
        """Whether this person holds the person-wide capability `can`
        (authorities/access.py): superusers always, anyone else through a
        national or regional role they hold, at no query (wide_roles)."""
        if can not in PERSON_WIDE:
            raise ValueError(f"{can} is asked of an authority (AuthorityAccess), not the person")
        return self.is_superuser or not self.wide_roles.isdisjoint(ROLES_THAT[can])

    @property
    def can_see_overview(self):
        """The overview table of every authority in their scope; people who
        cover single authorities work from those authorities' pages."""
        return self.may(Can.SEE_OVERVIEW)

    @property
    def can_export_feedback(self):
        """Whether they may download the feedback submissions they may read."""
        return self.may(Can.EXPORT_FEEDBACK)

    @property
    def can_see_small_numbers(self):
        """Every feedback figure, however few submissions it rests on."""
        return self.may(Can.SEE_SMALL_NUMBERS)

    def can_use_admin(self):
        """Only national officers (and superusers) may use the Django admin,
        and only while marked as staff."""
        return self.is_active and self.is_staff and self.may(Can.USE_ADMIN)

    @property
    def requires_mfa(self):
        """Staff, and the roles that read special-category data across many
        authorities, must sign in in two steps (authorities/mfa.py).
        Everyone else may choose to."""
        return self.is_staff or self.may(Can.SIGN_IN_IN_TWO_STEPS)

    def has_perm(self, perm, obj=None):
        # National officers manage people and reference data: in the admin
        # they may do everything, like the superuser the design's admin is.
        if self.can_use_admin():
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        if self.can_use_admin():
            return True
        return super().has_module_perms(app_label)


class RegionQuerySet(models.QuerySet):
    def for_user(self, user):
        """Regions whose dashboards a person may see: national scope sees all,
        regional roles their own region, authority roles none."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.has_national_scope:  # as LocalAuthorityQuerySet.for_user
            return self.all()
        return self.filter(pk__in=sorted({h.region_id for h in user.held if h.region_id}))

    def with_authority_count(self):
        return self.annotate(authority_count=models.Count("authorities"))


class Region(models.Model):
    """One of the nine English regions (ONS), as named in the DfE's data."""

    name = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=64, unique=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("dashboards:region", kwargs={"slug": self.slug})


# Punctuation in authorities' names ("Kingston upon Hull, City of", "St.
# Helens", "Stockton-on-Tees"), and what it becomes when names are compared
# word by word.
NAME_PUNCTUATION = {",": "", ".": "", "-": " "}


def as_words(text):
    """`text` as LocalAuthorityQuerySet.search compares words: lower case,
    punctuation as in NAME_PUNCTUATION, one space between words and one at
    each end (" kingston upon hull city of ")."""
    text = text.lower()
    for mark, becomes in NAME_PUNCTUATION.items():
        text = text.replace(mark, becomes)
    return f" {' '.join(text.split())} "


def words_of(field):
    """as_words(), in SQL, of a name field (its names have no double spaces)."""
    expression = Lower(field)
    for mark, becomes in NAME_PUNCTUATION.items():
        expression = Replace(expression, models.Value(mark), models.Value(becomes))
    return Concat(models.Value(" "), expression, models.Value(" "))


def _covering_people():
    return Membership.objects.select_related("user", "region").order_by(
        "role", "user__first_name", "user__last_name"
    )


def coverage_lookups():
    """Who covers an authority, directly or through its region (two
    queries): for LocalAuthorityQuerySet.with_coverage, or for
    prefetch_related_objects on an authority already read (its region with it)."""
    return [
        models.Prefetch(
            "memberships", queryset=_covering_people(), to_attr="authority_memberships"
        ),
        models.Prefetch(
            "region__memberships", queryset=_covering_people(), to_attr="region_memberships"
        ),
    ]


def read_coverage(authority):
    """What coverage_lookups() gives one authority already read (its region
    with it), in one query: `authority.authority_memberships` and
    `authority.region.region_memberships`."""
    people = list(
        _covering_people().filter(Q(authority=authority) | Q(region=authority.region_id))
    )
    authority.authority_memberships = [m for m in people if m.authority_id == authority.pk]
    for membership in authority.authority_memberships:
        membership.authority = authority  # as the prefetch leaves it: no query to name it
    authority.region.region_memberships = [m for m in people if m.region_id == authority.region_id]


class LocalAuthorityQuerySet(models.QuerySet):
    def for_user(self, user):
        """The authorities a person may see, decided in one query.

        National scope: all of England. Regional organisers and NEMs: every
        authority in their region. Everyone else: the authorities they cover.
        Other models' `for_user` write the same rule into their own rows'
        query (access.in_scope)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(covering(user, region="region_id", authority="pk"))

    def where_user_may(self, user, can):
        """Those of these authorities over which `user` holds `can` (a Can
        over an authority, access.POLICY) through a role covering them, in
        one query: for a list of many authorities' records, which to offer
        the action on (AuthorityAccess answers for one authority)."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(covering(user, ROLES_THAT[can], region="region_id", authority="pk"))

    def search(self, text):
        """Match a name, an alias (so "Hull" finds "Kingston upon Hull, City
        of"), a DfE LA code or an ONS/GSS code, each with `search_rank` (an
        alias, for order_by("search_rank", "name")): 0 when the text is the
        whole name, an alias or a code; 1 when it is whole words of one
        ("Hull" in "Kingston upon Hull, City of"); 2 when it is only part of
        a word ("hull" in "Solihull")."""
        text = (text or "").strip()
        if not text:
            return self
        words = as_words(text)
        aliases = AuthorityAlias.objects.filter(authority=OuterRef("pk"))
        exact = (
            Q(name__iexact=text)
            | Q(la_code=text)
            | Q(gss_code__iexact=text)
            | Exists(aliases.filter(name__iexact=text))
        )
        if words.strip():
            whole_words = Q(name_words__contains=words) | Exists(
                aliases.alias(name_words=words_of("name")).filter(name_words__contains=words)
            )
        else:  # only punctuation: no word to match whole
            whole_words = Q(pk__in=[])
        return (
            self.alias(name_words=words_of("name"))
            .filter(
                Q(name__icontains=text)
                | Q(la_code=text)
                | Q(gss_code__iexact=text)
                | Exists(aliases.filter(name__icontains=text))
                # "Stockton on Tees" finds "Stockton-on-Tees".
                | whole_words
            )
            .alias(
                search_rank=models.Case(
                    models.When(exact, then=models.Value(0)),
                    models.When(whole_words, then=models.Value(1)),
                    default=models.Value(2),
                )
            )
        )

    def with_coverage(self):
        """Prefetch who covers each authority, directly or through its region,
        so a list of any length costs a fixed number of queries."""
        return self.select_related("region").prefetch_related(*coverage_lookups())

    def get_by_name(self, name):
        """The authority called `name` (DfE spelling or an alias), ignoring case."""
        name = name.strip()
        aliases = AuthorityAlias.objects.filter(authority=OuterRef("pk"), name__iexact=name)
        return self.get(Q(name__iexact=name) | Exists(aliases))

    def with_latest_deficit(self):
        """Each authority annotated with its latest known DSG cumulative
        deficit (`latest_deficit`, negative for a surplus) and the financial
        year it is for (`latest_deficit_year`), in the same query; None for
        both when no year's deficit is recorded."""
        latest = AuthorityFinance.objects.filter(
            authority=OuterRef("pk"), dsg_cumulative_deficit__isnull=False
        ).order_by("-financial_year")
        return self.annotate(
            latest_deficit=models.Subquery(latest.values("dsg_cumulative_deficit")[:1]),
            latest_deficit_year=models.Subquery(latest.values("financial_year")[:1]),
        )


class LocalAuthority(Versioned):
    """An English local authority with education responsibility (153 of them).

    Reference data: loaded by `manage.py load_reference_data`, corrected only in
    the Django admin.
    """

    la_code = models.CharField(
        "DfE LA code", max_length=3, unique=True, help_text="The DfE's three-digit code."
    )
    gss_code = models.CharField("ONS/GSS code", max_length=9, unique=True)
    name = models.CharField(max_length=100, help_text="As the DfE spells it.")
    slug = models.SlugField(max_length=100, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="authorities")

    objects = LocalAuthorityQuerySet.as_manager()

    class Meta:
        verbose_name = "local authority"
        verbose_name_plural = "local authorities"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(la_code__regex=r"^[0-9]{3}$"), name="authority_la_code_3_digits"
            ),
            models.CheckConstraint(
                condition=Q(gss_code__regex=r"^E[0-9]{8}$"), name="authority_gss_code_format"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("dashboards:authority", kwargs={"slug": self.slug})

    def trusts_and_branches(self):
        """The multi-academy trusts running schools here, then the branches
        covering it, each by name, as (kind, name, page) in one query.
        Whoever may open the authority may open them (CoveringQuerySet.for_user)."""
        trusts = MultiAcademyTrust.objects.filter(authorities=self).order_by()
        branches = Branch.objects.filter(authorities=self).order_by()
        trusts = trusts.values_list(Value("trust"), "pk", "name")
        branches = branches.values_list(Value("branch"), "pk", "name")
        rows = sorted(
            trusts.union(branches, all=True), key=lambda row: (row[0] != "trust", row[2])
        )
        return [
            (kind, name, reverse(f"dashboards:{kind}", kwargs={"pk": pk}))
            for kind, pk, name in rows
        ]

    def roles_of(self, user):
        """The roles through which `user` covers this authority: national
        roles anywhere, regional roles in its region, authority roles here;
        a superuser as a national officer. What they may do there is
        AuthorityAccess(roles). From the memberships read once per request
        (User.held): no query."""
        if not (user.is_authenticated and user.is_active):
            return set()
        roles = {
            Role(held.role)
            for held in user.held
            if held.role in NATIONAL_ROLES
            or (held.region_id is not None and held.region_id == self.region_id)
            or (held.authority_id is not None and held.authority_id == self.pk)
        }
        if user.is_superuser:
            roles.add(Role.NATIONAL_OFFICER)
        return roles

    def can_edit_finance(self, user):
        """Whether `user` may record this authority's finance figures
        (Can.EDIT): no query (roles_of)."""
        return AuthorityAccess.of(user, self).can_edit

    def coverage(self):
        """Who in the union covers this authority: its own people, then the
        region's. Needs `with_coverage()`; falls back to queries without it."""
        own = getattr(self, "authority_memberships", None)
        if own is None:
            own = list(self.memberships.select_related("user"))
        regional = getattr(self.region, "region_memberships", None)
        if regional is None:
            regional = list(self.region.memberships.select_related("user"))
        return sorted([*own, *regional], key=lambda m: (m.role_order, m.user.display_name))


class AuthorityAlias(models.Model):
    """Another name an authority goes by ("Hull", "Bristol")."""

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "authority"

    authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        verbose_name_plural = "authority aliases"
        ordering = ["name"]

    def __str__(self):
        return self.name


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        """Memberships a person may see: their own, and those on authorities
        or regions within their scope."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        authorities = LocalAuthority.objects.for_user(user)
        regions = Region.objects.for_user(user)
        return self.filter(Q(user=user) | Q(authority__in=authorities) | Q(region__in=regions))


class Membership(Versioned):
    """One role a person holds, with the region or authority it covers.

    The database refuses a row whose scope does not fit its role: national
    roles carry neither, regional roles a region, the rest an authority.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="For regional organisers and national executive members.",
    )
    authority = models.ForeignKey(
        LocalAuthority,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="For roles that cover one local authority.",
    )

    # Role and scope changes, with who made them and from which address:
    # the audit trail reads them here (authorities/audit.py).
    history = HistoricalRecords(bases=[AddressedHistory])

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=NATIONAL_ROLES, region__isnull=True, authority__isnull=True)
                    | Q(role__in=REGIONAL_ROLES, region__isnull=False, authority__isnull=True)
                    | Q(role__in=AUTHORITY_ROLES, region__isnull=True, authority__isnull=False)
                ),
                name="membership_scope_fits_role",
                violation_error_message=(
                    "A national officer covers no region or authority; a regional "
                    "organiser or NEM covers a region; every other role covers one "
                    "local authority."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "authority"],
                condition=Q(authority__isnull=False),
                name="membership_unique_authority_role",
                violation_error_message="This person already holds this role here.",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(region__isnull=False),
                name="membership_unique_region_role",
                violation_error_message="This person already holds this role here.",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(region__isnull=True, authority__isnull=True),
                name="membership_unique_national_role",
                violation_error_message="This person already holds this role.",
            ),
        ]

    def __str__(self):
        where = self.authority or self.region or "England"
        return f"{self.get_role_display()}, {where}"

    @property
    def role_order(self):
        """Roles in the order DESIGN.md lists them, for stable display."""
        return list(Role).index(self.role)

    @property
    def place(self):
        return self.authority or self.region

    @property
    def role_and_place(self):
        """ "Local negotiating secretary, Camden"; a national role alone."""
        role = self.get_role_display()
        return f"{role}, {self.place}" if self.place else role


def format_pounds(amount):
    """An amount as people read it: "£12,500,000", or "£1,234.50" with pence."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    places = 0 if amount == amount.to_integral_value() else 2
    return f"{sign}£{amount:,.{places}f}"


def format_change(amount):
    """A change in words, millions rounded to one place: "up £3.2m",
    "down £450,000", "no change"."""
    if amount == 0:
        return "no change"
    size = abs(amount)
    if size >= 1_000_000:
        millions = (size / 1_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP).normalize()
        text = f"£{millions:f}m"
    else:
        text = format_pounds(size.quantize(Decimal(1), ROUND_HALF_UP))
    return f"{'up' if amount > 0 else 'down'} {text}"


class Figure(NamedTuple):
    """One finance figure, ready to show: `text` is "Not known" when blank."""

    label: str
    text: str
    known: bool
    source_url: str
    change: str = ""


class AuthorityFinanceQuerySet(models.QuerySet):
    def for_user(self, user):
        """Finance rows of the authorities a person may see."""
        return self.filter(in_scope(user, "authority"))

    def trend(self):
        """The rows oldest first, in one query, each given `previous_year`:
        the row for the year before it, or None when that year is not
        recorded (a gap is not compared across)."""
        rows = list(self.order_by("authority_id", "financial_year"))
        by_year = {(row.authority_id, row.financial_year): row for row in rows}
        for row in rows:
            row.previous_year = by_year.get((row.authority_id, row.financial_year - 1))
        return rows


def _pounds(verbose_name, help_text, *validators):
    return models.DecimalField(
        verbose_name,
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=list(validators),
        help_text=help_text,
    )


def _source(figure):
    return models.URLField(
        f"source of the {figure}",
        max_length=500,
        blank=True,
        help_text="The web address of the published document the figure comes from, "
        "such as Schools Forum papers or the council's accounts.",
    )


class AuthorityFinance(Versioned):
    """An authority's finance figures for one financial year, each with the
    web address of its source, entered by its representatives.

    Every figure may be unknown (blank); a figure that is known has a source.
    """

    # Whose data it is, for the page cache (authorities/caching.py).
    authority_path = "authority"

    # Each figure and the field holding its source.
    FIGURES = (
        ("dsg_cumulative_deficit", "dsg_cumulative_deficit_source_url"),
        ("high_needs_block_allocation", "high_needs_block_allocation_source_url"),
        ("schools_block_transfer", "schools_block_transfer_source_url"),
        ("ehcp_count", "ehcp_count_source_url"),
    )

    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="finance_years"
    )
    financial_year = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(FIRST_FINANCIAL_YEAR),
            MaxValueValidator(LAST_FINANCIAL_YEAR),
        ],
        help_text="The year it starts: 2024 for 2024-25.",
    )
    dsg_cumulative_deficit = _pounds(
        "DSG cumulative deficit",
        "In pounds, at the end of the financial year. A deficit is a positive number; "
        "enter a surplus as a negative number, like -250000. Leave blank if not known.",
    )
    dsg_cumulative_deficit_source_url = _source("DSG cumulative deficit")
    high_needs_block_allocation = _pounds(
        "High Needs Block allocation",
        "In pounds. Leave blank if not known.",
        MinValueValidator(0),
    )
    high_needs_block_allocation_source_url = _source("High Needs Block allocation")
    schools_block_transfer = _pounds(
        "transfer from the Schools Block to the High Needs Block",
        "In pounds; 0 if there was none. Leave blank if not known.",
        MinValueValidator(0),
    )
    schools_block_transfer_source_url = _source("block transfer")
    ehcp_count = models.PositiveIntegerField(
        "number of EHCPs",
        null=True,
        blank=True,
        help_text="Education, health and care plans the authority maintains. "
        "Leave blank if not known.",
    )
    ehcp_count_source_url = _source("number of EHCPs")
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, editable=False, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting a year keeps it here, with who deleted it and why.
    history = HistoricalRecords(excluded_fields=["updated_at"], bases=[AddressedHistory])

    objects = AuthorityFinanceQuerySet.as_manager()

    previous_year = None  # the row for the year before; set by trend()

    class Meta:
        verbose_name = "finance year"
        ordering = ["authority", "financial_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "financial_year"],
                name="authority_finance_one_row_per_year",
                violation_error_message="Figures for this year are already recorded.",
            ),
            models.CheckConstraint(
                condition=Q(
                    financial_year__gte=FIRST_FINANCIAL_YEAR,
                    financial_year__lte=LAST_FINANCIAL_YEAR,
                ),
                name="authority_finance_year_2010_to_2040",
            ),
            models.CheckConstraint(
                condition=Q(high_needs_block_allocation__isnull=True)
                | Q(high_needs_block_allocation__gte=0),
                name="authority_finance_hnb_allocation_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(schools_block_transfer__isnull=True)
                | Q(schools_block_transfer__gte=0),
                name="authority_finance_block_transfer_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.authority}, {self.financial_year_label}"

    @property
    def financial_year_label(self):
        return financial_year_label(self.financial_year)

    def clean(self):
        """Every figure that is filled in needs the web address of its source."""
        errors = {}
        for figure, source in self.FIGURES:
            if getattr(self, figure) is not None and not getattr(self, source):
                label = self._meta.get_field(source).verbose_name
                errors[source] = f"Enter the web address of the {label}"
        if errors:
            raise ValidationError(errors)
        if all(getattr(self, figure) is None for figure, _ in self.FIGURES):
            raise ValidationError("Enter at least one figure for the year")

    @property
    def deficit_change(self):
        """The DSG deficit's change since the year before (positive: it grew),
        or None when either year's figure is not known. Needs trend()."""
        previous = self.previous_year
        if previous is None or None in (
            previous.dsg_cumulative_deficit,
            self.dsg_cumulative_deficit,
        ):
            return None
        return self.dsg_cumulative_deficit - previous.dsg_cumulative_deficit

    @property
    def deficit_trend(self):
        """The change in words, "up £3.2m on 2023-24", or "" when unknown."""
        change = self.deficit_change
        if change is None:
            return ""
        return f"{format_change(change)} on {self.previous_year.financial_year_label}"

    def figures(self):
        """The four figures in display order, formatted, with their sources."""
        return [self._figure(figure, source) for figure, source in self.FIGURES]

    def _figure(self, figure, source):
        value = getattr(self, figure)
        if value is None:
            text = "Not known"
        elif figure == "ehcp_count":
            text = f"{value:,}"
        elif figure == "dsg_cumulative_deficit" and value < 0:
            text = f"{format_pounds(-value)} surplus"
        else:
            text = format_pounds(value)
        return Figure(
            label=str(self._meta.get_field(figure).verbose_name),
            text=text,
            known=value is not None,
            source_url=getattr(self, source),
            change=self.deficit_trend if figure == "dsg_cumulative_deficit" else "",
        )


class AuditEvent(models.Model):
    """Something the audit trail shows that no other record keeps: signing
    in (and failing to), two-factor and password changes, invitations sent,
    briefing packs opened, feedback withdrawn, people erased. Exports, role
    changes and deletions are read where they are already kept
    (authorities/audit.py)."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        MFA_ADDED = "mfa_added", "Two-factor authentication added"
        MFA_REMOVED = "mfa_removed", "Two-factor authentication removed"
        MFA_RESET = "mfa_reset", "Two-factor recovery codes renewed"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        INVITATION = "invitation", "Invitation sent"
        BRIEFING = "briefing", "Briefing pack opened"
        WITHDRAWAL = "withdrawal", "Feedback withdrawn"
        ERASURE = "erasure", "Person erased"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Copied so the record outlives the account; for a failed sign-in, the
    # address that was tried (never the password).
    actor_email = models.CharField("who", max_length=254, blank=True)
    subject = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    subject_email = models.CharField("about whom", max_length=254, blank=True)
    ip_address = models.GenericIPAddressField("from address", null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["-at", "-id"], name="audit_event_newest_first_idx")]

    def __str__(self):
        who = self.actor_email or "someone"
        return f"{self.get_kind_display()}: {who} on {self.at:%-d %B %Y %H:%M}"


class Digest(Versioned):
    """A person's daily e-mail digest (dashboards/digest.py): what it covers,
    and when it was last worked out. Every person has one, made with them
    (signals below), covering their scope: a representative who never opens
    their settings still hears of a new warning in their authority."""

    class Covers(models.TextChoices):
        SCOPE = "scope", "Every authority I can see"
        WATCHED = "watched", "Only the authorities I watch"
        NONE = "none", "No digest"

    person = models.OneToOneField(User, on_delete=models.CASCADE, related_name="digest")
    covers = models.CharField(
        "Which authorities should your daily digest cover?",
        max_length=10,
        choices=Covers.choices,
        default=Covers.SCOPE,
    )
    # The day the last digest was worked out (sent or, with nothing new, not):
    # the next covers the days from it to yesterday, and none is sent twice.
    last_sent_on = models.DateField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"{self.person}'s digest: {self.get_covers_display().lower()}"

    def authorities(self):
        """The authorities it covers, never beyond the person's scope (a
        watch outlives a role that is taken away)."""
        scope = LocalAuthority.objects.for_user(self.person)
        if self.covers == self.Covers.WATCHED:
            return scope.filter(watchers__person=self.person_id)
        return scope if self.covers == self.Covers.SCOPE else scope.none()


@receiver(post_save, sender=User)
def give_a_digest(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        Digest.objects.get_or_create(person=instance)


class Watch(models.Model):
    """An authority a person follows in their daily digest when they choose
    "Only the authorities I watch" (Digest.covers)."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watches")
    authority = models.ForeignKey(
        LocalAuthority, on_delete=models.CASCADE, related_name="watchers"
    )
    since = models.DateTimeField(auto_now_add=True)

    # The authority page says whether its reader watches it.
    authority_path = "authority"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "authority"], name="one_watch_per_authority")
        ]

    def __str__(self):
        return f"{self.person} watches {self.authority}"


# The briefing's section 7: multi-academy trusts and local branches --------


class CoveringQuerySet(models.QuerySet):
    """For records that cover several authorities (`authorities`, a
    many-to-many): a MAT, a branch."""

    def _covering(self, authorities):
        links = self.model.authorities.through.objects.filter(
            **{self.model.link_name: OuterRef("pk")}, localauthority__in=authorities
        )
        return self.filter(Exists(links))

    def for_user(self, user):
        """Those covering any authority the person may see (one query):
        national scope sees them all; out of scope is a 404."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self.all()
        return self._covering(LocalAuthority.objects.for_user(user))

    def where_user_may_record(self, user):
        """Those the person may change: covering an authority over which they
        hold Can.RECORD_TRUSTS_AND_BRANCHES (access.POLICY)."""
        return self._covering(
            LocalAuthority.objects.where_user_may(user, Can.RECORD_TRUSTS_AND_BRANCHES)
        )

    def with_authorities(self):
        """Each with its authorities by name, in one query more."""
        return self.prefetch_related(
            models.Prefetch(
                "authorities",
                queryset=LocalAuthority.objects.order_by("name").only("name", "slug"),
            )
        )


class Covering(Versioned):
    """What a MAT and a branch share: a name, the authorities covered, who
    last changed it. Who may change one: Can.RECORD_TRUSTS_AND_BRANCHES over
    any authority it covers."""

    name = models.CharField(max_length=150)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, editable=False, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def covers(self, authority_id):
        """Whether it covers the authority (one query)."""
        return self.authorities.filter(pk=authority_id).exists()

    def can_edit(self, user):
        """One query: the person holds Can.RECORD_TRUSTS_AND_BRANCHES over
        an authority it covers."""
        return type(self).objects.where_user_may_record(user).filter(pk=self.pk).exists()


class MultiAcademyTrust(Covering):
    """A multi-academy trust running schools in one or more authorities: the
    briefing asks organisers to consider how regional MATs shape special
    needs provision in mainstream schools, and NEMs to work with them."""

    link_name = "multiacademytrust"  # the through table's column for it

    authorities = models.ManyToManyField(
        LocalAuthority,
        related_name="trusts",
        verbose_name="authorities it runs schools in",
        help_text="Choose every local authority where the trust runs a school.",
    )
    mainstream_schools = models.PositiveSmallIntegerField(
        "number of mainstream schools",
        null=True,
        blank=True,
        help_text="Leave blank if not known.",
    )
    special_schools = models.PositiveSmallIntegerField(
        "number of special schools",
        null=True,
        blank=True,
        help_text="Leave blank if not known.",
    )
    notes = models.TextField(blank=True)

    # Kept with who changed what and when, as every record people edit.
    history = HistoricalRecords(
        excluded_fields=["updated_at"], m2m_fields=[authorities], bases=[AddressedHistory]
    )

    objects = CoveringQuerySet.as_manager()

    class Meta(Covering.Meta):
        verbose_name = "multi-academy trust"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="trust_name_unique",
                violation_error_message="A trust with this name is already recorded.",
            )
        ]

    def get_absolute_url(self):
        return reverse("dashboards:trust", kwargs={"pk": self.pk})


class Branch(Covering):
    """A local branch of the union and the authorities it covers: NEMs
    discuss SEN provision with branches (the briefing's section 7), and a
    branch meeting is one of the meetings logged."""

    link_name = "branch"

    authorities = models.ManyToManyField(
        LocalAuthority,
        related_name="branches",
        verbose_name="authorities it covers",
        help_text="Choose every local authority the branch covers.",
    )

    history = HistoricalRecords(
        excluded_fields=["updated_at"], m2m_fields=[authorities], bases=[AddressedHistory]
    )

    objects = CoveringQuerySet.as_manager()

    class Meta(Covering.Meta):
        verbose_name_plural = "branches"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="branch_name_unique",
                violation_error_message="A branch with this name is already recorded.",
            )
        ]

    def get_absolute_url(self):
        return reverse("dashboards:branch", kwargs={"pk": self.pk})
