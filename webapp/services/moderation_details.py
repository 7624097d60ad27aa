"""What a viewer learns of how an image was decided (issue 18).

Those who moderate see everything: which bank and entry an image matched, who reviewed it and their
note. An uploader sees what concerns their photo: its verdict, that it matched a known image, that a
moderator reviewed it and when, and the message the moderator left for them; never a bank's name
or entry, who reviewed it or what they noted.
"""

from flask_login import AnonymousUserMixin

from webapp.models import User, VirtualImage
from webapp.moderation import label

KNOWN_IMAGE = "Matched a known image"


def may_see_moderation_details(viewer: User | AnonymousUserMixin) -> bool:
    """Whether `viewer` sees how images were decided in full: banks and their entries, reviewers and
    their notes. Admins, today; moderators, once they have a role of their own, are added here."""
    return bool(viewer.is_authenticated and viewer.is_admin)


def labels_for(image: VirtualImage, viewer: User | AnonymousUserMixin) -> list[dict]:
    """The image's labels as `viewer` may see them. A bank match's stored label names the bank, and
    its confidence tells the distance: to anyone else it is only a match of a known image."""
    if "HashMatch" not in (image.rekognition_data or {}) or may_see_moderation_details(viewer):
        return image.labels
    return [label(KNOWN_IMAGE, "", 100, 1)]
