"""Images on local disk, served to whoever holds an unexpired signed link, as S3 presigned URLs are."""

from flask import Blueprint, abort, request, send_file

from webapp.services.photos import stored_image
from webapp.storage import get_storage
from webapp.storage.local import LocalStorage, link_lifetime

blueprint = Blueprint("media", __name__, url_prefix="/media")


@blueprint.get("/<path:key>")
def serve(key: str):
    """One stored object: the link is the permission, so no login; forged or expired links get 403."""
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    lifetime = link_lifetime(key, request.args.get("token", ""))
    if lifetime is None:
        abort(403, "This image link is not valid or has expired.")
    image = stored_image(key)
    if image is None:
        abort(404)
    try:
        response = send_file(storage.path(key), mimetype=image.content_type, max_age=lifetime)
    except FileNotFoundError:
        abort(404)  # a photo being deleted: its objects go first, then its rows
    # A private photo: browsers may keep it, shared caches may not, and never past the link's life.
    response.cache_control.public = False
    response.cache_control.private = True
    return response
