"""Authorities, regions, people and who in the union covers what.

Everything else in the app hangs off a `LocalAuthority` and is scoped through
`LocalAuthority.objects.for_user(user)`: what a person may see is decided in the
query, so an out-of-scope object is simply not found (404), never leaked.
"""

from functools import cached_property

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse


class Role(models.TextChoices):
    """The union roles of DESIGN.md; the scope each carries is fixed below."""

    NATIONAL_OFFICER = "national_officer", "National officer"
    REGIONAL_ORGANISER = "regional_organiser", "Regional organiser"
    NEM = "nem", "National executive member"
    LNS = "lns", "Local negotiating secretary"
    SCHOOLS_FORUM_REP = "schools_forum_rep", "Schools Forum representative"
    JCNC_REP = "jcnc_rep", "JCNC/JCC representative"
    SENCO_LEAD = "senco_lead", "SENCO network lead"
    HEADTEACHER_REP = "headteacher_rep", "Headteacher network representative"


# Plain strings in a fixed order, so the constraints below serialise stably
# into migrations.
NATIONAL_ROLES = (Role.NATIONAL_OFFICER.value,)
REGIONAL_ROLES = (Role.REGIONAL_ORGANISER.value, Role.NEM.value)
AUTHORITY_ROLES = tuple(r.value for r in Role if r not in NATIONAL_ROLES + REGIONAL_ROLES)


class UserManager(BaseUserManager):
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


class User(AbstractUser):
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

    @cached_property
    def has_national_scope(self):
        """National officers and superusers see all of England (asked once
        per request: the request's user object carries the answer)."""
        if self.is_superuser:
            return True
        return self.memberships.filter(role__in=NATIONAL_ROLES).exists()

    def can_use_admin(self):
        """Only national officers (and superusers) may use the Django admin,
        and only while marked as staff."""
        return self.is_active and self.is_staff and self.has_national_scope

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
        if user.is_superuser:
            return self.all()
        mine = Membership.objects.filter(user=user)
        return self.filter(
            Exists(mine.filter(role__in=NATIONAL_ROLES))
            | Exists(mine.filter(region=OuterRef("pk")))
        )

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
        return reverse("authorities:region", kwargs={"slug": self.slug})


class LocalAuthorityQuerySet(models.QuerySet):
    def for_user(self, user):
        """The authorities a person may see, decided in one query.

        National scope: all of England. Regional organisers and NEMs: every
        authority in their region. Everyone else: the authorities they cover.
        Later models' `for_user` filter on this queryset.
        """
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self.all()
        mine = Membership.objects.filter(user=user)
        return self.filter(
            Exists(mine.filter(role__in=NATIONAL_ROLES))
            | Exists(mine.filter(region=OuterRef("region_id")))
            | Exists(mine.filter(authority=OuterRef("pk")))
        )

    def search(self, text):
        """Match a name, an alias (so "Hull" finds "Kingston upon Hull, City
        of"), a DfE LA code or an ONS/GSS code."""
        text = (text or "").strip()
        if not text:
            return self
        aliases = AuthorityAlias.objects.filter(authority=OuterRef("pk"), name__icontains=text)
        return self.filter(
            Q(name__icontains=text) | Q(la_code=text) | Q(gss_code__iexact=text) | Exists(aliases)
        )

    def with_coverage(self):
        """Prefetch who covers each authority, directly or through its region,
        so a list of any length costs a fixed number of queries."""
        people = Membership.objects.select_related("user", "region").order_by(
            "role", "user__first_name", "user__last_name"
        )
        return self.select_related("region").prefetch_related(
            models.Prefetch("memberships", queryset=people, to_attr="authority_memberships"),
            models.Prefetch("region__memberships", queryset=people, to_attr="region_memberships"),
        )

    def get_by_name(self, name):
        """The authority called `name` (DfE spelling or an alias), ignoring case."""
        name = name.strip()
        aliases = AuthorityAlias.objects.filter(authority=OuterRef("pk"), name__iexact=name)
        return self.get(Q(name__iexact=name) | Exists(aliases))


class LocalAuthority(models.Model):
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
        return reverse("authorities:detail", kwargs={"slug": self.slug})

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


class Membership(models.Model):
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
