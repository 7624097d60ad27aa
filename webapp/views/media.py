"""Stored images served to whoever holds an unexpired signed link, as S3 presigned URLs are.

Only storage without URLs of its own (local disk) links here; any other answers 404.
"""

from flask import Blueprint, abort, request, send_file

from webapp.services.photos.photos import stored_image
from webapp.storage import LINK_PATH, LinkNotValid, NotServedHere, ObjectMissing, get_storage

blueprint = Blueprint("media", __name__, url_prefix=LINK_PATH)


@blueprint.get("/<path:key>")
def serve(key: str):
    """One stored object: the link is the permission, so no login; forged or expired links get 403."""
    try:
        linked = get_storage().linked_file(key, request.args.get("token", ""))
    except LinkNotValid:
        abort(403, "This image link is not valid or has expired.")
    except (ObjectMissing, NotServedHere):
        abort(404)
    image = stored_image(key)
    if image is None:
        abort(404)
    try:
        response = send_file(linked.path, mimetype=image.content_type, max_age=linked.lifetime)
    except FileNotFoundError:
        abort(404)  # gone since storage found it: a photo being deleted loses its objects first
    # A private photo: browsers may keep it, shared caches may not, and never past the link's life.
    response.cache_control.public = False
    response.cache_control.private = True
    if linked.disposition:
        response.headers["Content-Disposition"] = linked.disposition
    return response
