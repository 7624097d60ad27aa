"""Pages for people: upload, my photos, a gallery page per photo, and the icon every page shows."""

from flask import Blueprint, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required

from webapp.errors import AppError, MissingFile
from webapp.providers.registry import choose_provider
from webapp.rate_limits import count_uploaded_files, limit_uploads
from webapp.services.moderation import appeals
from webapp.services.photos import photos, uploads
from webapp.uploaded_files import limit_to_one_file
from webapp.views.fragments import is_htmx, render_page_or_fragment
from webapp.views.params import int_arg, photo_filter

blueprint = Blueprint("pages", __name__)

FAVICON_MAX_AGE = 7 * 24 * 3600


@blueprint.get("/")
def index():
    """Start at the upload page."""
    return redirect(url_for("pages.upload"))


@blueprint.get("/favicon.ico")
def favicon():
    """The site's icon: browsers ask for it on their own, before any login; they may keep it a week."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=FAVICON_MAX_AGE)


@blueprint.get("/upload")
@login_required
def upload():
    """The upload page: file picker and drag-and-drop, a live card per photo."""
    return render_template("pages/upload.html")


@blueprint.post("/upload")
@login_required
@limit_uploads
def upload_file():
    """Accept one file from the upload page and answer with its card (or a card saying why not)."""
    limit_to_one_file(request, current_app.config["MAX_FILE_BYTES"])
    count_uploaded_files()
    upload = request.files.get("file")
    try:
        if upload is None:
            raise MissingFile()
        placement = uploads.Placement(choose_provider(None))
        accepted = uploads.accept_photo(current_user, upload.stream, upload.filename, placement)
    except AppError as error:
        filename = uploads.display_filename(upload.filename if upload else None)
        html = render_template("partials/photo_card_refused.html", filename=filename, error=error)
        return html, error.status
    session = photos.find_session(current_user, accepted.session_id)
    return _card(session), 202


@blueprint.get("/photos")
@login_required
def photo_list():
    """My photos, newest first, filtered by verdict and state; htmx gets the list alone."""
    page = photos.list_sessions(current_user, int_arg("page", 1), filters=photo_filter())
    return render_page_or_fragment("pages/photos.html", "partials/photo_list.html", page=page)


@blueprint.get("/photos/<session_id>")
@login_required
def photo(session_id: str):
    """A photo's gallery page: original and processed side by side, with both thumbnails; a moderator
    reads anyone's, and deletes only their own."""
    return _photo_page(session_id)


@blueprint.post("/photos/<session_id>/appeal")
@login_required
def appeal(session_id: str):
    """Appeal the photo's verdict from its page: htmx gets the page's appeal part, in its new state or
    saying what was wrong; a browser without scripts gets the page."""
    message = request.form.get("message", "")
    try:
        appeals.appeal(current_user, session_id, message)
    except appeals.REFUSALS as refused:
        context = {"appeal_error": refused.message, "appeal_message": message}
        return _photo_page(session_id, "partials/photo_appeal.html", **context), refused.status
    if not is_htmx():
        return redirect(url_for("pages.photo", session_id=session_id), 303)
    return _photo_page(session_id, "partials/photo_appeal.html")


def _photo_page(session_id: str, fragment: str = "partials/photo_gallery.html", **extra):
    session = photos.find_session(current_user, session_id)
    virtual_image = session.virtual_image
    history = virtual_image.reviews if virtual_image else []
    context = {
        "session": session,
        "virtual_image": virtual_image,
        "reviews": history,
        "may_delete": photos.may_change(current_user, session),
    }
    return render_page_or_fragment("pages/photo.html", fragment, **context, **extra)


@blueprint.get("/photos/<session_id>/card")
@login_required
def photo_card(session_id: str):
    """One photo's card; it keeps polling itself until the photo is processed or failed."""
    return _card(photos.find_session(current_user, session_id))


def _card(session) -> str:
    return render_template("partials/photo_card.html", session=session, virtual_image=session.virtual_image)
