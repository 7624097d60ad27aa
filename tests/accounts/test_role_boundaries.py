"""Who may use each page and API operation: every route of the app has a least role (public, user,
moderator, admin), and through the real server each role below it is refused and each role at or above
it is let through. A new route fails the first test until it is given a role here. And the navigation
offers each role its pages."""

import re
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest
import requests

from tests.support.factories import make_user
from tests.support.pages import signed_in
from tests.support.routes import example_path
from webapp.models import Role

PUBLIC = "public"
# Each role may do all the ones before it may.
RANKS = [PUBLIC, Role.USER, Role.MODERATOR, Role.ADMIN]


def _least(role, *routes: str) -> dict[tuple[str, str], str]:
    """`routes` as "METHOD endpoint", each with `role` as the least that may use it."""
    return {tuple(route.split()): role for route in routes}


LEAST_ROLE = {
    # The way in, probes and scrapers, the API's documents, signed image links, and the vendor's
    # webhook, which its signature admits: the same answer whoever asks.
    **_least(
        PUBLIC,
        "GET pages.index",
        "GET pages.favicon",
        "GET auth.login",
        "POST auth.login",
        "POST auth.logout",
        "GET first_run.setup",
        "POST first_run.setup",
        "GET static",
        "GET media.serve",
        "GET health.healthz",
        "GET health.readyz",
        "GET health.metrics",
        "GET docs.openapi",
        "GET docs.api_page",
        "POST webhooks.moderation_callback",
    ),
    # Uploading, one's own photos, jobs, appeals and account.
    **_least(
        Role.USER,
        "GET pages.upload",
        "POST pages.upload_file",
        "GET pages.photo_list",
        "GET pages.photo",
        "GET pages.photo_card",
        "POST pages.appeal",
        "GET account.account",
        "POST account.account",
        "POST account.change_password",
        "POST account.rotate_signing_secret",
        "POST account.make_token",
        "PUT account.update_account",
        "GET account.signing_secret",
        "POST account.rotate_signing_secret_api",
        "GET account.token_list",
        "POST account.create_token",
        "DELETE account.delete_token",
        "GET jobs.batch",
        "GET jobs.job_list",
        "GET jobs.job",
        "GET api.list_photos",
        "GET api.get_photo",
        "DELETE api.delete_photo",
        "POST api.upload_photo",
        "POST api.appeal",
        "GET bulk_api.job_status",
        "GET bulk_api.list_jobs",
        "POST bulk_api.create_job",
        "GET bulk_api.get_job",
        "DELETE bulk_api.delete_job",
        "POST bulk_api.check_files",
        "POST bulk_api.add_files",
        "POST bulk_api.submit_job",
        "POST bulk_api.upload_batch",
        "GET uploads_api.capabilities",
        "POST uploads_api.issue_uploads",
        "POST uploads_api.complete_upload",
    ),
    # Review work, reading hash banks and adding hashes to them, and one's wellness settings.
    **_least(
        Role.MODERATOR,
        "GET review.queue",
        "POST review.decide",
        "POST review.decide_selection",
        "POST review.release",
        "POST review.escalate",
        "POST review.renew",
        "GET review_api.queue",
        "POST review_api.claim",
        "DELETE review_api.release",
        "POST review_api.escalate",
        "POST reviews_api.review",
        "GET banks.bank_list",
        "GET banks.bank",
        "POST banks.add_entry",
        "GET banks_api.list_banks",
        "GET banks_api.get_bank",
        "GET banks_api.list_entries",
        "POST banks_api.add_entry",
        "GET banks_api.export_hashes",
        "POST account.save_review_settings",
        "GET account.review_settings_answer",
        "PUT account.update_review_settings",
    ),
    # Users, queues and workers, banks' settings and entries, and the audit log.
    **_least(
        Role.ADMIN,
        "GET admin.queues_page",
        "POST admin.cancel_job",
        "POST admin.requeue_job",
        "POST admin.requeue_all",
        "POST admin.requeue_group",
        "GET admin_users.user_list",
        "POST admin_users.create_user",
        "GET admin_users.confirm",
        "POST admin_users.set_password",
        "POST admin_users.revoke",
        "POST admin_users.disable",
        "POST admin_users.enable",
        "POST admin_users.set_role",
        "POST admin_users.delete",
        "POST banks.create_bank",
        "POST banks.update_bank",
        "POST banks.set_entry",
        "POST banks.import_hashes",
        "POST banks_api.create_bank",
        "PATCH banks_api.update_bank",
        "PATCH banks_api.update_entry",
        "POST banks_api.import_hashes",
        "GET audit.page",
        "GET audit.csv",
        "GET audit_api.events",
    ),
}

# Where a query, not the route, sets who may: (method, endpoint, query, least role).
VARIANTS = [("GET", "review.queue", "?queue=escalated", Role.ADMIN)]


def _routes(app) -> dict[tuple[str, str], list[str]]:
    """Every (method, endpoint) of the app with the paths of its rules, HEAD and OPTIONS aside
    (Flask answers those itself)."""
    routes: dict[tuple[str, str], list[str]] = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.setdefault((method, rule.endpoint), []).append(example_path(rule.rule))
    return routes


def test_every_route_has_a_least_role(app):
    routes = set(_routes(app))

    unclassified = sorted(routes - set(LEAST_ROLE))
    assert unclassified == [], "routes with no least role: add each to LEAST_ROLE"
    stale = sorted(set(LEAST_ROLE) - routes)
    assert stale == [], "LEAST_ROLE names routes the app does not have: rename or remove them"


class Visitor:
    """One person (or nobody) asking the live server: pages with a logged-in browser session and its
    CSRF token, as the pages send forms; the API with their bearer token."""

    def __init__(self, base: str, role: str, person=None):
        self.base, self.role = base, role
        self.browser = requests.Session()
        self.api_headers = person.headers if person else {}
        if person:
            page = self.browser.post(
                base + "/login",
                data={"email": person.email, "password": person.password, "csrf_token": self._csrf("/login")},
                timeout=10,
            )
            assert page.url.endswith("/upload"), f"{person.email} did not log in"
        # Anonymous visitors send a valid token too, so their answers are about logging in, not CSRF.
        self.csrf_header = {"X-CSRFToken": self._csrf("/login")}

    def _csrf(self, path: str) -> str:
        page = self.browser.get(self.base + path, timeout=10).text
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def ask(self, method: str, path: str) -> tuple[int, str]:
        """The status and where a redirect leads. No body: nothing is uploaded or processed."""
        if path.startswith("/api/"):
            answer = requests.request(
                method, self.base + path, headers=self.api_headers, allow_redirects=False, timeout=10
            )
        else:
            headers = self.csrf_header if method != "GET" else {}
            answer = self.browser.request(
                method, self.base + path, headers=headers, allow_redirects=False, timeout=10
            )
        return answer.status_code, answer.headers.get("Location", "").split("?")[0]


class Asked(NamedTuple):
    method: str
    path: str
    endpoint: str
    least: str  # the least role that may


def _asked(app) -> list[Asked]:
    """Every classified route and variant; logging out last, since it ends the visitor's session."""
    routes = _routes(app)
    asked = [
        Asked(method, path, endpoint, LEAST_ROLE[method, endpoint])
        for (method, endpoint), paths in routes.items()
        if (method, endpoint) in LEAST_ROLE
        for path in paths
    ]
    for method, endpoint, query, least in VARIANTS:
        asked += [Asked(method, path + query, endpoint, least) for path in routes.get((method, endpoint), [])]
    return sorted(asked, key=lambda request: request.endpoint == "auth.logout")


def _verdict(role: str, asked: Asked, answer: tuple[int, str], anonymous_status: int) -> str:
    """'ok', or what is wrong with `answer` to `role`."""
    status, location = answer
    sent_to_login = status in (301, 302, 303) and location.endswith("/login")
    if asked.least == PUBLIC:
        return "ok" if status == anonymous_status else f"{status}, where anonymous got {anonymous_status}"
    if RANKS.index(role) >= RANKS.index(asked.least):
        return "ok" if status not in (401, 403) and not sent_to_login else f"refused: {status} {location}"
    if role == PUBLIC:
        logging_in = status == 401 if asked.path.startswith("/api/") else sent_to_login
        return "ok" if logging_in else f"{status} {location}, not sent to log in"
    return "ok" if status == 403 else f"{status} {location}, not 403"


def test_each_role_below_a_routes_least_role_is_refused_and_each_at_or_above_is_let_through(app, live_server):
    people = {
        Role.USER: make_user(app, "user@example.com"),
        Role.MODERATOR: make_user(app, "moderator@example.com", role=Role.MODERATOR),
        Role.ADMIN: make_user(app, "admin@example.com", role=Role.ADMIN),
    }
    visitors = [Visitor(live_server, PUBLIC)] + [
        Visitor(live_server, role, person) for role, person in people.items()
    ]
    asked = _asked(app)

    def visit(visitor: Visitor) -> list[tuple[int, str]]:
        return [visitor.ask(request.method, request.path) for request in asked]

    # A visitor's requests one after the other, the four visitors at once.
    with ThreadPoolExecutor(len(visitors)) as pool:
        answers = dict(zip((visitor.role for visitor in visitors), pool.map(visit, visitors), strict=True))

    wrong = [
        f"{request.method} {request.path} ({request.endpoint}, {request.least} and up) as {role}: {verdict}"
        for number, request in enumerate(asked)
        for role in answers
        if (verdict := _verdict(role, request, answers[role][number], answers[PUBLIC][number][0])) != "ok"
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("role", "links", "who"),
    [
        (Role.USER, [], "user@example.com"),
        (Role.MODERATOR, ["Review", "Banks"], "moderator@example.com · moderator"),
        (Role.ADMIN, ["Review", "Queues", "Banks", "Users", "Audit"], "admin@example.com · admin"),
    ],
)
def test_the_navigation_offers_each_role_its_pages_and_names_the_role(app, role, links, who):
    person = make_user(app, f"{role}@example.com", role=role)

    page = signed_in(app.test_client(), person).get("/upload").get_data(as_text=True)

    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    assert re.findall(r">([\w ]+)</a>", nav) == ["Upload", "My photos", "Batch", "Jobs", *links, "API"]
    assert f'<a class="who" href="/account">{who}</a>' in page
