"""The review queue for moderators: the images they hold, decided one by one or by selection."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from webapp.auth import moderator_pages_only
from webapp.services.moderation import claims, reviews
from webapp.views.fragments import render_page_or_fragment

blueprint = Blueprint("review", __name__)

QUEUE_LENGTH = 25


blueprint.before_request(moderator_pages_only)


@blueprint.get("/review")
def queue():
    """The images waiting for a person, flagged first, then failed ones, oldest first."""
    return render_page_or_fragment("pages/review.html", "partials/review_queue.html", **_queue())


@blueprint.post("/review/bulk")
def decide_selection():
    """One verdict for every selected image; answers the queue as it is now."""
    form = request.form
    ids, verdict = form.getlist("ids"), form.get("verdict")
    reviews.decide_many(current_user, ids, verdict, form.get("note"), form.get("message"))
    return render_template("partials/review_queue.html", **_queue())


@blueprint.post("/review/<virtual_image_id>")
def decide(virtual_image_id: str):
    """Approve or reject one image, with an internal note and a message to the uploader; answers its
    card, now saying what was decided."""
    form = request.form
    review = reviews.decide(
        current_user, virtual_image_id, form.get("verdict"), form.get("note"), form.get("message")
    )
    return render_template("partials/review_card.html", review=review)


def _queue() -> dict:
    work = claims.take_work(current_user, QUEUE_LENGTH)
    return {"items": work.items, "waiting": work.waiting + len(work.items)}
