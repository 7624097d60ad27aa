"""Who is asking: a browser session (cookie + CSRF) or an API token (Authorization: Bearer)."""

import functools

from flask import Flask, Response, g, redirect, request, url_for
from flask_login import current_user

from webapp import rate_limits
from webapp.errors import AppError, Forbidden
from webapp.extensions import csrf, login_manager
from webapp.models import User
from webapp.services.accounts.users import session_user, user_for_token

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class NotAuthenticated(AppError):
    code = "not_authenticated"
    status = 401
    message = "Log in, or send an API token as 'Authorization: Bearer <token>'."


def init_app(app: Flask) -> None:
    # The remember cookie is as private as the session cookie it stands in for.
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["REMEMBER_COOKIE_SAMESITE"] = app.config["SESSION_COOKIE_SAMESITE"]
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    login_manager.login_view = "auth.login"
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_user_from_bearer_token)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_protect_cookie_sessions_from_csrf)


def _load_user(session_id: str) -> User | None:
    # A request that carries a token is authenticated by the token alone, never by a cookie
    # alongside it, so skipping the CSRF check for token requests cannot be abused.
    if _bearer_token() is not None:
        return _user_from_bearer_token(request)
    return session_user(session_id)


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _user_from_bearer_token(_request) -> User | None:
    """The token's owner; once per request, since Flask-Login may ask more than once."""
    token = _bearer_token()
    if token is None:
        return None
    if "token_user" not in g:
        rate_limits.check_token_failures()
        g.token_user = user_for_token(token)
        if g.token_user is None:
            rate_limits.count_token_failure()
    return g.token_user


def _protect_cookie_sessions_from_csrf() -> None:
    """A bearer token cannot be sent by another site; a cookie can, so cookie requests need the token.

    An API request with neither is left to answer 401; forms (the login form too) always need it.
    """
    if request.method not in UNSAFE_METHODS or _bearer_token() is not None:
        return
    if request.path.startswith("/api/") and not current_user.is_authenticated:
        return
    csrf.protect()


def api_login_required(view):
    """Like login_required, but answers a JSON 401 instead of redirecting to the login page."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise NotAuthenticated()
        return view(*args, **kwargs)

    return wrapper


def admin_pages_only() -> Response | None:
    """A blueprint's before_request for admin pages: log in first; anyone else logged in gets 403.

    Every method, OPTIONS too: login_required lets OPTIONS through unauthenticated (for CORS
    preflights, which these pages never answer), and an anonymous visitor has no role to check.
    """
    return _pages_for(is_admin=True)


def moderator_pages_only() -> Response | None:
    """A blueprint's before_request for pages of moderators (and admins), as admin_pages_only."""
    return _pages_for(is_admin=False)


def _pages_for(is_admin: bool) -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not (current_user.is_admin if is_admin else current_user.is_moderator):
        raise Forbidden()
    return None


def admin_required(view):
    """An API operation for admins only: 401 without credentials, 403 for anyone else. Also a page of
    a blueprint whose before_request lets moderators in (its visitors are logged in by then)."""
    return _required(view, lambda user: user.is_admin)


def moderator_required(view):
    """An API operation for moderators and admins: 401 without credentials, 403 for anyone else."""
    return _required(view, lambda user: user.is_moderator)


def _required(view, allowed):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise NotAuthenticated()
        if not allowed(current_user):
            raise Forbidden()
        return view(*args, **kwargs)

    return wrapper


def _unauthorized():
    """Not logged in: JSON 401 for the API; for an htmx swap, send the whole page to the login form
    (a redirect would land the login page inside the fragment); a redirect for everything else."""
    if request.path.startswith("/api/"):
        raise NotAuthenticated()
    login = url_for(login_manager.login_view, next=request.full_path if request.args else request.path)
    if request.headers.get("HX-Request") == "true":
        return Response(status=204, headers={"HX-Redirect": login})
    return redirect(login)
