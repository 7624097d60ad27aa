"""A moderator's wellness settings, and what they do to the images a moderator looks at.

Blur covers an image until the moderator reveals it (with a click, or by hovering over or focusing
it); greyscale drains the colour of flagged and rejected images, where gore and injury are likeliest
to be, and stays while the image is revealed: reveal decides whether to look, greyscale how much of
it reaches the eye, and the second is turned off in the settings rather than per image. An uploader
looking at their own photos and anyone who does not moderate never get either (issue 21).
"""

import uuid
from dataclasses import dataclass

from flask_login import AnonymousUserMixin

from webapp.errors import Forbidden
from webapp.extensions import db
from webapp.models import ModerationStatus, User, VirtualImage
from webapp.models.users import RevealOn

GREYSCALED = (ModerationStatus.FLAGGED, ModerationStatus.REJECTED)


class NotModerating(Forbidden):
    message = "Review settings are for moderators."


@dataclass(frozen=True)
class ReviewSettings:
    blur: bool
    greyscale: bool
    reveal: RevealOn


@dataclass(frozen=True)
class Cover:
    """How one photo's images are shown to one viewer: blurred until revealed, in greyscale, neither."""

    blur: bool = False
    greyscale: bool = False
    reveal: RevealOn = RevealOn.CLICK

    @property
    def attributes(self) -> dict[str, str | None]:
        """The HTML attributes of the element around the images (None: left out), for covers.css and
        covers.js to act on."""
        return {
            "data-blur": "" if self.blur else None,
            "data-greyscale": "" if self.greyscale else None,
            "data-reveal-on": self.reveal.value if self.blur else None,
        }


UNCOVERED = Cover()


def of(user: User) -> ReviewSettings:
    """The user's review settings; refused to those who do not moderate."""
    if not user.is_moderator:
        raise NotModerating()
    return ReviewSettings(user.review_blur, user.review_greyscale, user.review_reveal)


def change(
    user: User, *, blur: bool | None = None, greyscale: bool | None = None, reveal: RevealOn | None = None
) -> ReviewSettings:
    """Change the settings given (None: kept as it is); refused to those who do not moderate."""
    of(user)
    if blur is not None:
        user.review_blur = blur
    if greyscale is not None:
        user.review_greyscale = greyscale
    if reveal is not None:
        user.review_reveal = reveal
    db.session.commit()
    return of(user)


def cover(viewer: User | AnonymousUserMixin, image: VirtualImage | None, owner_id: uuid.UUID) -> Cover:
    """How `viewer`'s settings show the images of a photo: `image` (None while there is none yet),
    uploaded by `owner_id`."""
    if not (viewer.is_authenticated and viewer.is_moderator) or owner_id == viewer.id:
        return UNCOVERED
    return Cover(
        blur=viewer.review_blur,
        greyscale=viewer.review_greyscale and image is not None and image.moderation_status in GREYSCALED,
        reveal=viewer.review_reveal,
    )
