"""Whether a page makes queries while its template renders (it must not: a
dashboard reads everything in its view, so the query pins tell the truth)."""

from django.db import connection
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext


def queries_while_rendering(client, url, template, data=None):
    """GET `url`: the response, and the SQL of the queries made once the
    page's own `template` began to render (the test client signals each
    template as it starts; fragments a view renders first do not count)."""
    started = []
    with CaptureQueriesContext(connection) as captured:

        def mark(sender, template, **kwargs):
            if template.name == page and not started:
                started.append(len(captured.captured_queries))

        page = template
        template_rendered.connect(mark)
        try:
            response = client.get(url, data)
        finally:
            template_rendered.disconnect(mark)
    assert started, f"{page} was not rendered"
    return response, [query["sql"] for query in captured.captured_queries[started[0] :]]
