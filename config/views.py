"""The few project-wide pages that belong to no app."""

import logging
import uuid

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
def health(request):
    """For load balancers and uptime checks: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database did not answer")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# Once the migrations are found applied they stay so in this process: the
# check reads every app's migrations, too slow for each probe.
_migrated = False


def _migrations_applied():
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def _cache_answers():
    """The default cache (sessions' copies, the rate limits) takes a value
    and gives it back."""
    key = f"ready-{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    answered = cache.get(key) == "1"
    cache.delete(key)
    return answered


@login_not_required
@never_cache
@require_GET
def ready(request):
    """For load balancers during a deploy: 200 only when this server can
    serve: the database answers, the cache answers, and every migration of
    this release has been applied (a server of the new release is not sent
    requests before `migrate` has run). 503 says which is not ready."""
    checks = {}
    for name, check in (
        ("database", _database_answers),
        ("cache", _cache_answers),
        ("migrations", _migrations_applied),
    ):
        try:
            checks[name] = "ok" if check() else "not ready"
        except Exception:
            logger.exception("Readiness check: %s failed", name)
            checks[name] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "error", **checks}, status=200 if ready else 503
    )


def _database_answers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


@login_not_required
@require_GET
def accessibility(request):
    return render(request, "accessibility.html")
