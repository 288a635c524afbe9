"""One log line per request, and logs that hold no personal data.

Each request gets an id (a proxy's `X-Request-ID` if it sent a sane one, else
a new one), returned in the response's `X-Request-ID` so a person reporting a
problem can quote it. When the response is ready, the logger
"tracker.request" writes one line: the id, the person's user id (never
their e-mail address; only if the request looked them up, as the line is
written after the queries are counted and must make none of its own), the
method, the path without its query string (a
search's words, a reset link's key), the status, the time taken and the
number of database queries.

With LOG_FORMAT=json every record is one JSON object (JsonFormatter), with
the request's fields as keys and a traceback under "exc_info" for errors.

Django logs a 403 (PermissionDenied) and a 404 with the exception attached,
which a formatter prints as a traceback: WithoutTracebacks drops it for
those, keeping tracebacks for what is worth one (a 500).
"""

import json
import logging
import re
import time
import uuid

from django.db import connections
from django.utils.functional import LazyObject

logger = logging.getLogger("tracker.request")

# A proxy's id is kept only if it looks like one: no spaces, no control
# characters, nothing long enough to carry anything else.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


class QueryCounter:
    """Counts the queries run on every database connection while installed
    (a `connection.execute_wrapper`), in production as in DEBUG."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
        counter = QueryCounter()
        started = time.perf_counter()
        wrappers = [c.execute_wrapper(counter) for c in connections.all()]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        duration = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request.id
        user = _user_if_loaded(request)
        fields = {
            "request_id": request.id,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration, 1),
            "queries": counter.count,
        }
        logger.info(
            "%(method)s %(path)s %(status)s %(duration_ms)sms %(queries)s queries "
            "user=%(user_id)s id=%(request_id)s",
            fields,
            extra=fields,
        )
        return response


def _user_if_loaded(request):
    """The person the request was served for, or None if it never looked
    them up: reading `request.user` here, after the response, would load the
    session and the person (two queries the line does not count) for
    requests that never needed them, a probe of /health/ or /ready/.

    AuthenticationMiddleware sets `request.user` to a lazy object whose
    first read stores the person as `request._cached_user`
    (django.contrib.auth.middleware.get_user); signing in or out sets
    `request.user` to the person itself."""
    user = vars(request).get("user")
    if isinstance(user, LazyObject):
        return vars(request).get("_cached_user")
    return user


REQUEST_FIELDS = ("request_id", "user_id", "method", "path", "status", "duration_ms", "queries")


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object on one line."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (name, getattr(record, name)) for name in REQUEST_FIELDS if hasattr(record, name)
        )
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class WithoutTracebacks(logging.Filter):
    """On django.request: a 403 or 404 is said in one line, without the
    exception Django attaches (a traceback for every stray link)."""

    def filter(self, record):
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
