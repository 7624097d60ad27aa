"""Driving the pages through Flask's test client: the login form, its CSRF token, htmx requests."""

import re

from tests.support.factories import Person


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, email: str, password: str, remember: bool = False):
    """Log in through the form; `remember` ticks "Stay logged in"."""
    page = client.get("/login").get_data(as_text=True)
    form = {"email": email, "password": password, "csrf_token": _csrf_token(page)}
    return client.post("/login", data=form | ({"remember": "yes"} if remember else {}))


def signed_in(client, person: Person):
    """`client` logged in as `person`, with the CSRF header its pages would give htmx."""
    login(client, person.email, person.password)
    page = client.get("/upload").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.csrf_headers = {"X-CSRFToken": token}
    return client


def htmx_post(client, path: str, data: dict):
    return client.post(path, headers={**client.csrf_headers, "HX-Request": "true"}, data=data)
