"""What a viewer learns of how an image was decided (issues 18 and 19).

Those who moderate see everything: which bank and entry an image matched, who reviewed it and their
note, every label and score. An uploader sees what concerns their photo: its verdict, the labels that
decided it, that it matched a known image, that a moderator reviewed it and when, and the message the
moderator left for them; never a bank's name or entry, who reviewed it or what they noted.
"""

from flask_login import AnonymousUserMixin

from webapp.models import ModerationStatus, User, VirtualImage
from webapp.providers import label
from webapp.providers.cascade import cascade_of
from webapp.providers.registry import policy

KNOWN_IMAGE = "Matched a known image"
# The verdicts a label can have caused; an approved image was approved because none reached a threshold.
DECIDED_BY_LABELS = (ModerationStatus.FLAGGED, ModerationStatus.REJECTED)


def may_see_moderation_details(viewer: User | AnonymousUserMixin) -> bool:
    """Whether `viewer` sees how images were decided in full: banks and their entries, reviewers and
    their notes. Moderators and admins."""
    return bool(viewer.is_authenticated and viewer.is_moderator)


def labels_for(image: VirtualImage, viewer: User | AnonymousUserMixin) -> list[dict]:
    """The image's labels as `viewer` may see them: every label and score for those who moderate; for
    its uploader, only what decided the verdict (issue 19).

    Labels under the thresholds alarm an uploader for nothing ("Exposed Buttocks 30 %" on an approved
    landscape): an approved image shows none, a flagged or rejected one those at or above a threshold
    of the policy in force. A bank match's stored label names the bank, and its confidence tells the
    distance: to the uploader it is only a match of a known image."""
    if may_see_moderation_details(viewer):
        return image.labels
    if "HashMatch" in (image.rekognition_data or {}):
        return [label(KNOWN_IMAGE, "", 100, 1)]
    if image.moderation_status not in DECIDED_BY_LABELS:
        return []
    return policy().counted(image.labels)


def labels_frame(image: VirtualImage, viewer: User | AnonymousUserMixin) -> int | None:
    """The animation frame (the first is 0) whose labels `labels_for` shows `viewer`: the worst, when the
    provider looked frame by frame. None for a still photo, a contact sheet, or when no label is shown."""
    if not labels_for(image, viewer):
        return None
    return ((image.rekognition_data or {}).get("Frames") or {}).get("decided_by")


def second_opinion_for(image: VirtualImage, viewer: User | AnonymousUserMixin) -> dict | None:
    """For an image whose first answer was in the cascade's band: who was asked for the second, deciding
    opinion, the band and, for those who moderate, the first answer (its provider, labels and the verdict
    it would have had). The uploader learns only that a second provider decided: the labels they see are
    the deciding ones. None for an image decided by one provider."""
    entry = cascade_of(image.rekognition_data)
    if entry is None:
        return None
    if may_see_moderation_details(viewer):
        return {"escalated_to": entry["escalated_to"], "band": entry["band"], "first": entry["first"]}
    return {"escalated_to": entry["escalated_to"], "band": None, "first": None}
