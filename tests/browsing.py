"""Post a form as a browser would: read what the page shows (every input,
checked box, selected option and textarea of one form), change what the test
says, send the rest as it was. Faster than Chromium for the many tests that
only need what the page holds; tests/browser/ drives the real browser."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []  # [(every field's name, [(name, value) as posted])]
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._form = (set(), [])
            self.forms.append(self._form)
        if self._form is None:
            return
        fields = self._form[1]
        name = attrs.get("name")
        if name and tag in ("input", "select", "textarea"):
            self._form[0].add(name)
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name and "disabled" not in attrs:
            self._select = [name, None, None]  # name, first option, selected
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in attrs:
                fields.append((self._select[0], value))
                self._select[2] = value
        elif tag == "textarea" and name and "disabled" not in attrs:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, first, selected = self._select
            if selected is None and first is not None:
                self._form[1].append((name, first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # A browser drops one newline straight after <textarea>, and
            # sends line breaks as CRLF.
            text = text.removeprefix("\n").replace("\r\n", "\n").replace("\n", "\r\n")
            self._form[1].append((name, text))
            self._textarea = None


def form_fields(html, *, having="base_version"):
    """The fields of the page's first form that posts and has a field named
    `having` (by default the edit form: it carries the version it was opened
    at; None for any form), as {name: value or [values]}."""
    reader = _FormReader()
    reader.feed(html if isinstance(html, str) else html.decode())
    for names, fields in reader.forms:
        if having is None or having in names:
            data = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            return {
                name: values[0] if len(values) == 1 else values for name, values in data.items()
            }
    raise AssertionError(f"No form that posts{f' with {having}' if having else ''} on the page")


def resubmit(client, url, *, having="base_version", **changes):
    """GET `url`, then POST its form back with `changes` applied, as a
    browser would; returns the POST's response."""
    page = client.get(url)
    assert page.status_code == 200, f"{url} answered {page.status_code}"
    data = form_fields(page.content, having=having)
    data.update(changes)
    return client.post(url, data)
