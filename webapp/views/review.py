"""The review queue for moderators: the images they hold, decided one by one or by selection, let go or
passed to the admins; admins also work the queue of what was passed to them (`?queue=escalated`)."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from webapp.auth import moderator_pages_only
from webapp.services.moderation import claims, reviews, team_activity
from webapp.views.fragments import render_page_or_fragment
from webapp.views.params import MAX_NOTE_LENGTH, choice_arg, form_string

blueprint = Blueprint("review", __name__)

QUEUE_LENGTH = 25


blueprint.before_request(moderator_pages_only)


@blueprint.get("/review")
def queue():
    """The images the moderator holds, topped up from the oldest: flagged ones and appeals first, then
    failed ones."""
    return render_page_or_fragment("pages/review.html", "partials/review_queue.html", **_queue())


@blueprint.post("/review/bulk")
def decide_selection():
    """One verdict for every selected image; answers the queue as it is now."""
    form = request.form
    ids, verdict = form.getlist("ids"), form.get("verdict")
    reviews.decide_many(current_user, ids, verdict, form.get("note"), form.get("message"))
    return render_template("partials/review_queue.html", **_queue())


@blueprint.post("/review/renew")
def renew():
    """The page's heartbeat while the moderator works: their claims last another while."""
    claims.renew(current_user)
    return "", 204


@blueprint.post("/review/<virtual_image_id>")
def decide(virtual_image_id: str):
    """Approve or reject one image, with an internal note and a message to the uploader; answers its
    card, now saying what was decided."""
    form = request.form
    review = reviews.decide(
        current_user, virtual_image_id, form.get("verdict"), form.get("note"), form.get("message")
    )
    return render_template("partials/review_card.html", review=review)


@blueprint.post("/review/<virtual_image_id>/release")
def release(virtual_image_id: str):
    """Let an image go back to the queue for others (the page removes its card)."""
    claims.release(current_user, virtual_image_id)
    return "", 204


@blueprint.post("/review/<virtual_image_id>/escalate")
def escalate(virtual_image_id: str):
    """Pass an image to the admins with the card's note (the page removes its card)."""
    claims.escalate(current_user, virtual_image_id, form_string("note", MAX_NOTE_LENGTH))
    return "", 204


def _queue() -> dict:
    queue = choice_arg("queue", claims.Queue, claims.Queue.MODERATORS)
    work = claims.take_work(current_user, QUEUE_LENGTH, queue)
    escalated = queue == claims.Queue.ESCALATED
    return {
        "queue": queue,
        "items": work.items,
        "waiting": work.waiting,
        "oldest_waits": waited(work.oldest_waiting_seconds),
        "decided_today": team_activity.decisions_today(),
        "claim_minutes": max(1, round(claims.claim_seconds() / 60)),
        "escalated_waiting": claims.queue_length(claims.Queue.ESCALATED) if current_user.is_admin else None,
        "escalated_by": team_activity.escalated_by([item.virtual_image.id for item in work.items])
        if escalated
        else {},
    }


def waited(seconds: float | None) -> str | None:
    """A wait in words read at a glance: "under a minute", "3 min", "2 h 5 min", "3 days"."""
    if seconds is None:
        return None
    minutes = int(seconds // 60)
    hours, rest = divmod(minutes, 60)
    if not minutes:
        return "under a minute"
    if not hours:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"
