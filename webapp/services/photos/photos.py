"""Reading photos: role-checked lookups (and by a link's key), filtered listings, short-lived image URLs."""

import functools
import time
import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, true
from sqlalchemy.orm import selectinload

from webapp.errors import Forbidden, NotFound, parse_id
from webapp.extensions import db
from webapp.models import ImageKind, PhotoSession, S3Image, User, VirtualImage
from webapp.services.paging import Paged
from webapp.services.photo_filters import NO_FILTER, FilterCounts, PhotoFilter, count
from webapp.storage import Storage, get_storage
from webapp.storage.disposition import content_disposition


@dataclass(frozen=True)
class PhotoPage(Paged):
    sessions: list[PhotoSession]
    page: int
    per_page: int
    total: int  # the photos that pass `filters`
    filters: PhotoFilter
    counts: FilterCounts


def visible_sessions(viewer: User):
    """A select of the sessions `viewer` may read: their own, or every one for those who moderate
    (they review everyone's photos)."""
    return select(PhotoSession) if viewer.is_moderator else _owned(viewer, select(PhotoSession))


def listed_sessions(viewer: User):
    """A select of the sessions `viewer` lists as their photos: their own, or every one for an admin.
    A moderator reads others' photos one by one, from the review queue, never as a listing of theirs."""
    return _listed(viewer, select(PhotoSession))


def _listed(viewer: User, query):
    # A session whose original is not stored yet (a file on its way to the bucket) is no photo yet.
    query = query.where(PhotoSession.original_image_id.is_not(None))
    return query if viewer.is_admin else _owned(viewer, query)


def _owned(viewer: User, query):
    return query.where(PhotoSession.owner_id == viewer.id)


def find_session(viewer: User, session_id: str | uuid.UUID) -> PhotoSession:
    """The session, to read, if it exists and `viewer` may read it; NotFound otherwise (never 'not yours')."""
    query = visible_sessions(viewer).where(PhotoSession.session_id == parse_id(session_id))
    loaded = (selectinload(PhotoSession.images), selectinload(PhotoSession.virtual_image))
    session = db.session.scalar(query.options(*loaded))
    if session is None:
        raise NotFound()
    return session


def find_session_to_change(viewer: User, session_id: str | uuid.UUID) -> PhotoSession:
    """The session, to change (delete), if `viewer` may: NotFound if they may not even read it,
    Forbidden if they read it only to review it (a moderator, another's photo)."""
    session = find_session(viewer, session_id)
    if not may_change(viewer, session):
        raise Forbidden()
    return session


def may_change(viewer: User, session: PhotoSession) -> bool:
    """Whether `viewer` may change (delete) the session: their own, or any for an admin."""
    return viewer.is_admin or session.owner_id == viewer.id


def stored_image(key: str) -> S3Image | None:
    """The image stored under `key`, whoever owns it: for links that are their own permission."""
    return db.session.scalar(select(S3Image).where(S3Image.key == key))


def list_sessions(
    viewer: User, page: int = 1, per_page: int = 24, filters: PhotoFilter = NO_FILTER
) -> PhotoPage:
    """The viewer's photos (every one, for an admin) that pass `filters`, newest first, with the counts
    per filter value."""
    page = max(page, 1)
    counts = count(db.session.execute(_tally(viewer, filters)), filters)
    query = listed_sessions(viewer)
    if filters.reads_images:
        query = query.join(PhotoSession.virtual_image)
    query = (
        query.where(*filters.conditions())
        .options(
            selectinload(PhotoSession.images),
            selectinload(PhotoSession.virtual_image).selectinload(VirtualImage.reviews),
        )
        .order_by(PhotoSession.created_at.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return PhotoPage(list(db.session.scalars(query)), page, per_page, counts.matching, filters, counts)


def _tally(viewer: User, filters: PhotoFilter):
    """The viewer's photos grouped by processing state, verdict and whether their filename is the one
    searched for: one pass gives every count."""
    named = filters.named() if filters.filename else true()
    query = (
        select(PhotoSession.status, VirtualImage.moderation_status, named, func.count())
        .select_from(PhotoSession)
        .outerjoin(PhotoSession.virtual_image)
        .group_by(PhotoSession.status, VirtualImage.moderation_status)
    )
    if filters.filename:
        # Only then: PostgreSQL refuses a constant in GROUP BY.
        query = query.group_by(named)
    return _listed(viewer, query)


def image_url(image: S3Image, base_url: str) -> str:
    """A short-lived URL the browser can load `image` from; links this app serves itself (local
    disk) start with `base_url`, the address the page was asked for.

    The same URL is handed out for half its lifetime, so a page that polls every few seconds
    lets the browser cache its thumbnails instead of fetching them again under a new signature,
    and presigning (a third of a millisecond each) is paid once per image, not per render.
    """
    expires = current_app.config["IMAGE_URL_EXPIRES"]
    window = int(time.time() // max(expires // 2, 1))
    return _signed_url(get_storage(), image.key, expires, window, base_url, _disposition(image))


def _disposition(image: S3Image) -> str | None:
    """The original downloads under the name it was uploaded with; the files made from it are ours."""
    if image.kind != ImageKind.ORIGINAL or image.session.virtual_image is None:
        return None
    return content_disposition(image.session.virtual_image.original_filename)


@functools.lru_cache(maxsize=16384)
def _signed_url(
    storage: Storage, key: str, expires: int, window: int, base_url: str, disposition: str | None
) -> str:
    return storage.url(key, expires, base_url, disposition)


def iso(moment) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes that are UTC already."""
    if moment is None:
        return None
    return moment.isoformat() if moment.tzinfo else moment.isoformat() + "+00:00"
