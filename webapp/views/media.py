"""Images on local disk, served through signed short-lived URLs that also check the owner."""

from flask import Blueprint, abort, request, send_file
from flask_login import current_user, login_required

from webapp.services.photos import find_session
from webapp.storage import get_storage
from webapp.storage.local import SHARED_SALT, LocalStorage, signed_key_is_valid

blueprint = Blueprint("media", __name__, url_prefix="/media")


@blueprint.get("/<path:key>")
@login_required
def serve(key: str):
    """One stored object, if the link is valid and unexpired and the photo is the viewer's."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage) or not signed_key_is_valid(key, request.args.get("token", "")):
        abort(404)
    session = find_session(current_user, key.split("/", 1)[0])
    image = next((image for image in session.images if image.key == key), None)
    if image is None:
        abort(404)
    return send_file(storage.path(key), mimetype=image.content_type, max_age=86400)


@blueprint.get("/shared/<path:key>")
def shared(key: str):
    """One original, for the external moderation service: the unexpired signed link is the permission."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage) or not signed_key_is_valid(
        key, request.args.get("token", ""), SHARED_SALT
    ):
        abort(404)
    try:
        return send_file(storage.path(key), max_age=0)
    except FileNotFoundError:
        abort(404)
