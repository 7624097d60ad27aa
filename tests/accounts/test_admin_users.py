"""The admin users page: who may see it, the list, new users, new passwords, revoking access, disabling,
roles and deleting, each asked first, and never on one's own account."""

import re
import uuid

import pytest
from sqlalchemy import func, select

from tests.support.factories import image_bytes, make_user, upload
from tests.support.pages import login, signed_in
from tests.support.verdicts import job_with
from webapp.extensions import db
from webapp.models import BulkJob, PhotoSession, Role, User
from webapp.services.accounts import user_access
from webapp.services.accounts.users import authenticate

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def admin_browser(client, admin):
    return signed_in(client, admin)


def _form(browser, path: str, data: dict):
    return browser.post(path, data=data | {"csrf_token": browser.csrf_headers["X-CSRFToken"]})


def _row(page: str, email: str) -> str:
    return re.search(rf'<tr data-user="{re.escape(email)}">(.*?)</tr>', page, re.S).group(1)


def _logged_in(app, person):
    """A browser of its own, logged in as `person`."""
    browser = app.test_client()
    assert login(browser, person.email, person.password).headers["Location"] == "/upload"
    return browser


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR])
def test_the_users_page_is_for_admins_only(app, client, other_user, role):
    user = make_user(app, f"{role}@example.com", role=role)
    assert "/login" in client.get("/admin/users").headers["Location"]
    signed_in(client, user)
    token = client.csrf_headers["X-CSRFToken"]

    assert client.get("/admin/users").status_code == 403
    for path in (
        "/admin/users",
        f"/admin/users/{other_user.id}/password",
        f"/admin/users/{other_user.id}/revoke",
        f"/admin/users/{other_user.id}/disable",
        f"/admin/users/{other_user.id}/enable",
        f"/admin/users/{other_user.id}/delete",
        f"/admin/users/{other_user.id}/make-admin",
        f"/admin/users/{other_user.id}/make-moderator",
    ):
        form = {"email": "x@example.com", "password": NEW_PASSWORD, "csrf_token": token}
        assert client.post(path, data=form).status_code == 403, path
    assert "Users</a>" not in client.get("/upload").get_data(as_text=True)
    assert client.get(f"/admin/users/{other_user.id}/delete").status_code == 403
    with app.app_context():
        assert authenticate(other_user.email, other_user.password)
        assert db.session.scalar(select(User).where(User.email == "x@example.com")) is None
        assert db.session.get(User, user.id).role == role
        assert (
            db.session.get(User, other_user.id).role == Role.USER
            and db.session.get(User, other_user.id).is_active
        )


def test_an_admin_sees_every_user_with_their_tokens(admin_browser, admin, user):
    admin_browser.get("/api/photos", headers=user.headers)  # the token's first use

    page = admin_browser.get("/admin/users").get_data(as_text=True)

    assert 'aria-current="page">Users</a>' in page
    mine, theirs = _row(page, admin.email), _row(page, user.email)
    assert "admin" in mine and "you" in mine and "never" in mine
    assert "<td>user</td>" in theirs and "<td>1</td>" in theirs and "never" not in theirs
    assert re.search(r"<time datetime=\"[^\"]+\+00:00\">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>", theirs)


@pytest.mark.parametrize("role", ["user", "moderator", "admin"])
def test_an_admin_creates_a_user_who_can_log_in(app, admin_browser, role):
    form = {"email": "New@Example.com", "password": NEW_PASSWORD, "role": role}

    response = _form(admin_browser, "/admin/users", form)

    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    page = admin_browser.get("/admin/users").get_data(as_text=True)
    assert f"Created {role} new@example.com." in page
    assert f"<td>{role}</td>" in _row(page, "new@example.com")
    assert login(app.test_client(), "new@example.com", NEW_PASSWORD).headers["Location"] == "/upload"


def test_the_new_user_form_offers_each_role_and_starts_at_user(admin_browser):
    form = admin_browser.get("/admin/users").get_data(as_text=True).split("<h2>New user</h2>")[1]

    options = re.findall(r'<option value="(\w+)" ?(selected)?>', form)
    assert options == [("user", "selected"), ("moderator", ""), ("admin", "")]


@pytest.mark.parametrize(
    ("email", "password", "role", "status", "message"),
    [
        (
            "admin@example.com",
            NEW_PASSWORD,
            "user",
            409,
            "A user with the email admin@example.com already exists.",
        ),
        ("nobody", NEW_PASSWORD, "user", 400, "Not an email address: &#39;nobody&#39;"),
        ("new@example.com", "short", "user", 422, "A password needs at least 10 characters."),
        ("new@example.com", "", "user", 422, "A password needs at least 10 characters."),
        (
            "new@example.com",
            NEW_PASSWORD,
            "owner",
            400,
            "&#39;role&#39; must be one of user, moderator, admin.",
        ),
    ],
)
def test_creating_a_user_refuses_bad_input_readably(
    app, admin_browser, email, password, role, status, message
):
    response = _form(admin_browser, "/admin/users", {"email": email, "password": password, "role": role})

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and f'value="{email}"' in page  # the form again, as it was filled
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.email == "new@example.com")) is None


def test_a_new_password_ends_every_session_of_the_user(app, admin_browser, user):
    elsewhere = _logged_in(app, user)

    response = _form(admin_browser, f"/admin/users/{user.id}/password", {"password": NEW_PASSWORD})

    assert response.status_code == 303
    assert f"Password of {user.email} set" in admin_browser.get("/admin/users").get_data(as_text=True)
    assert "/login" in elsewhere.get("/photos").headers["Location"]
    with app.app_context():
        assert authenticate(user.email, user.password) is None
        assert authenticate(user.email, NEW_PASSWORD)
    assert elsewhere.get("/api/photos", headers=user.headers).status_code == 200  # tokens stay


def test_an_admin_who_sets_their_own_password_stays_logged_in(app, admin_browser, admin):
    elsewhere = _logged_in(app, admin)

    _form(admin_browser, f"/admin/users/{admin.id}/password", {"password": NEW_PASSWORD})

    assert admin_browser.get("/admin/users").status_code == 200
    assert "/login" in elsewhere.get("/admin/users").headers["Location"]


def test_a_weak_new_password_is_refused_on_its_row(app, admin_browser, user):
    elsewhere = _logged_in(app, user)

    response = _form(admin_browser, f"/admin/users/{user.id}/password", {"password": "short"})

    assert response.status_code == 422
    row = _row(response.get_data(as_text=True), user.email)
    assert "A password needs at least 10 characters." in row
    assert elsewhere.get("/photos").status_code == 200
    with app.app_context():
        assert authenticate(user.email, user.password)


def test_revoking_ends_the_sessions_and_deletes_the_tokens_of_the_user(app, admin_browser, user):
    elsewhere = _logged_in(app, user)

    response = _form(admin_browser, f"/admin/users/{user.id}/revoke", {})

    assert response.status_code == 303
    page = admin_browser.get("/admin/users").get_data(as_text=True)
    assert f"Ended every session of {user.email} and deleted 1 API token(s)." in page
    assert "<td>0</td>" in _row(page, user.email)
    assert "/login" in elsewhere.get("/photos").headers["Location"]
    assert app.test_client().get("/api/photos", headers=user.headers).status_code == 401
    assert login(app.test_client(), user.email, user.password).headers["Location"] == "/upload"


@pytest.mark.parametrize("user_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_user_is_not_found(admin_browser, user_id):
    for action in ("password", "revoke"):
        response = _form(admin_browser, f"/admin/users/{user_id}/{action}", {"password": NEW_PASSWORD})
        assert response.status_code == 404


def _confirm_page(browser, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<form method="post" action="{path}"' in page  # the page's button does what it asks about
    return " ".join(page.split())


def test_a_disabled_user_is_locked_out_at_once_and_an_enabled_one_gets_their_tokens_back(
    app, admin_browser, user
):
    elsewhere = _logged_in(app, user)
    page = _confirm_page(admin_browser, f"/admin/users/{user.id}/disable")
    assert "their 1 API token(s) are refused" in page

    response = _form(admin_browser, f"/admin/users/{user.id}/disable", {})

    assert response.status_code == 303
    listing = admin_browser.get("/admin/users").get_data(as_text=True)
    assert f"Disabled {user.email}" in listing and "disabled</span>" in _row(listing, user.email)
    assert "/login" in elsewhere.get("/photos").headers["Location"]
    assert app.test_client().get("/api/photos", headers=user.headers).status_code == 401
    refused = login(app.test_client(), user.email, user.password)
    assert refused.status_code == 200 and "This account is disabled: ask an admin." in refused.get_data(
        as_text=True
    )
    assert "This account is disabled" not in login(
        app.test_client(), user.email, "not the password"
    ).get_data(as_text=True)

    assert _form(admin_browser, f"/admin/users/{user.id}/enable", {}).status_code == 303

    assert app.test_client().get("/api/photos", headers=user.headers).status_code == 200
    assert "/login" in elsewhere.get("/photos").headers["Location"]  # old sessions stay ended
    assert login(app.test_client(), user.email, user.password).headers["Location"] == "/upload"


def _role_links(page: str, email: str) -> list[str]:
    return re.findall(r">Make ([\w ]+)</a>", _row(page, email))


def test_an_admin_gives_a_user_each_role_in_turn_after_asking(app, admin_browser, user):
    theirs = _logged_in(app, user)
    assert _role_links(admin_browser.get("/admin/users").get_data(as_text=True), user.email) == [
        "moderator",
        "admin",
    ]
    steps = [
        ("moderator", "a moderator", ["ordinary user", "admin"], {"/admin/banks": 200, "/admin/users": 403}),
        ("admin", "an admin", ["ordinary user", "moderator"], {"/admin/banks": 200, "/admin/users": 200}),
        ("moderator", "a moderator", ["ordinary user", "admin"], {"/admin/banks": 200, "/admin/users": 403}),
        ("user", "an ordinary user", ["moderator", "admin"], {"/admin/banks": 403, "/admin/users": 403}),
    ]
    for role, named, offered, reaches in steps:
        question = _confirm_page(admin_browser, f"/admin/users/{user.id}/make-{role}")
        assert f"Make {user.email} {named}?" in question

        assert _form(admin_browser, f"/admin/users/{user.id}/make-{role}", {}).status_code == 303

        listing = admin_browser.get("/admin/users").get_data(as_text=True)
        assert f"{user.email} is now {'a user' if role == 'user' else named}." in listing
        assert f"<td>{role}</td>" in _row(listing, user.email)
        assert _role_links(listing, user.email) == offered
        assert {path: theirs.get(path).status_code for path in reaches} == reaches


def test_deleting_a_user_deletes_their_photos_jobs_and_objects_after_asking(
    app, admin_browser, user, other_user, parked, bucket_keys
):
    single = upload(admin_browser, user.headers, image_bytes(), "holiday.jpg").get_json()["session_id"]
    job_id = job_with(app, user, [("a.jpg", "approved", "completed"), ("b.jpg", "flagged", "completed")])
    kept = upload(admin_browser, other_user.headers, image_bytes(), "theirs.jpg").get_json()["session_id"]
    assert bucket_keys(f"{single}/")

    page = _confirm_page(admin_browser, f"/admin/users/{user.id}/delete")
    assert "their 3 photo(s), every file of them in storage, their 1 job(s) and their 1 API token(s)" in page
    assert bucket_keys(f"{single}/")  # asking deleted nothing

    response = _form(admin_browser, f"/admin/users/{user.id}/delete", {})

    assert response.status_code == 303
    listing = admin_browser.get("/admin/users").get_data(as_text=True)
    assert f"Deleted {user.email} with their 3 photo(s) and 1 job(s)." in listing
    assert f'data-user="{user.email}"' not in listing
    assert [key for key in bucket_keys() if not key.startswith(f"{kept}/")] == []
    assert bucket_keys(f"{kept}/")
    assert app.test_client().get("/api/photos", headers=user.headers).status_code == 401
    with app.app_context():
        assert db.session.get(User, user.id) is None
        assert db.session.scalar(select(func.count()).select_from(PhotoSession)) == 1
        assert db.session.get(BulkJob, uuid.UUID(job_id)) is None


@pytest.mark.parametrize(
    "action",
    ["disable", "delete", "make-user", "make-moderator"],
    ids=["disable", "delete", "unmake admin", "make moderator"],
)
def test_no_admin_takes_access_from_themselves(app, admin_browser, admin, action):
    listing = admin_browser.get("/admin/users").get_data(as_text=True)
    assert "Disable<" not in _row(listing, admin.email) and "Delete<" not in _row(listing, admin.email)
    assert admin_browser.get(f"/admin/users/{admin.id}/{action}").status_code == 409

    response = _form(admin_browser, f"/admin/users/{admin.id}/{action}", {})

    assert response.status_code == 409
    assert "Not on your own account: another admin has to do that." in response.get_data(as_text=True)
    assert admin_browser.get("/admin/users").status_code == 200
    with app.app_context():
        me = db.session.get(User, admin.id)
        assert me.is_admin and me.is_active


def test_two_admins_unmaking_each_other_at_once_leave_one_admin(app, admin):
    second = make_user(app, "second@example.com", role=Role.ADMIN)
    with app.app_context():
        first_admin, second_admin = db.session.get(User, admin.id), db.session.get(User, second.id)
        # The second's request passed the admin check before the first's change was made.
        user_access.set_role(first_admin, second_admin, Role.USER)
        with pytest.raises(user_access.LastAdmin):
            user_access.set_role(second_admin, first_admin, Role.USER)
        with pytest.raises(user_access.LastAdmin):
            user_access.disable(second_admin, first_admin)
        assert db.session.get(User, admin.id).is_admin
