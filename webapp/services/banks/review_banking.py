"""What people's reviews put in a bank: the hash of every image they reject, out again if approved."""

import io
import logging
import uuid
from itertools import groupby

from flask import current_app
from PIL import Image
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.imaging import MIN_QUALITY, crop_fingerprints
from webapp.models import (
    Bank,
    BankAction,
    BankEntry,
    EntryOrigin,
    ImageKind,
    ModerationStatus,
    User,
    VirtualImage,
)
from webapp.services.banks import bank_entries, banks
from webapp.services.banks.bank_entries import Added, NewEntry
from webapp.services.verdicts import MANUAL
from webapp.storage import ObjectMissing, get_storage

log = logging.getLogger(__name__)
BACKFILL_BATCH = 200


def review_bank() -> Bank | None:
    """The bank images rejected in review join (REVIEW_REJECTS_BANK names it, '' for none); made on
    first use as a reject bank."""
    name = current_app.config["REVIEW_REJECTS_BANK"].strip()
    if not name:
        return None
    bank = db.session.scalars(select(Bank).where(Bank.name == name)).first()
    if bank is None:
        bank = banks.create_bank(name, BankAction.REJECT)
    return bank


def add_rejected(images: list[VirtualImage], reviewer: User | None) -> Added:
    """A person rejected these images: their hashes, their centre crops', and an animation's sampled
    frames' join the review bank, so the picture is known again in any frame of a re-upload.

    A hash not made yet, or one too flat to match on, is left out.
    """
    bank = review_bank()
    entries = [entry for image in images for entry in _entries(image)]
    if bank is None or not entries:
        return Added(0, 0)
    added = bank_entries.add(bank, EntryOrigin.REVIEW, reviewer, entries)
    db.session.commit()
    return added


def _entries(image: VirtualImage) -> list[NewEntry]:
    """The image's own hash (with its crops'), then its frames', each only if good enough to match on."""
    entries = []
    if image.pdq_hash and (image.pdq_quality or 0) >= MIN_QUALITY:
        entries.append(NewEntry(image.pdq_hash, None, image.id, _crop_hashes(image)))
    entries += [
        NewEntry(frame.pdq_hash, None, image.id) for frame in image.frames if frame.pdq_quality >= MIN_QUALITY
    ]
    return entries


def bank_past_rejections() -> Added:
    """Every image whose verdict is a person's rejection and that the review bank lacks joins it,
    each credited to its reviewer; walked in id order, so it is safe to run again or beside reviews."""
    bank = review_bank()
    total, after = Added(0, 0), None
    while bank is not None and (batch := _past_rejections(bank, after)):
        for reviewer_id, images in groupby(batch, key=lambda image: image.reviewed_by_id):
            reviewer = db.session.get(User, reviewer_id) if reviewer_id else None
            total += add_rejected(list(images), reviewer)
        after = max(image.id for image in batch)
    return total


def _past_rejections(bank: Bank, after: uuid.UUID | None) -> list[VirtualImage]:
    """The next images after `after` that a person rejected, with a hash to match on, not in `bank`."""
    banked = select(BankEntry.origin_image_id).where(
        BankEntry.bank_id == bank.id, BankEntry.origin_image_id.is_not(None)
    )
    query = (
        select(VirtualImage)
        .where(
            VirtualImage.moderation_status == ModerationStatus.REJECTED,
            VirtualImage.source == MANUAL,
            VirtualImage.pdq_quality >= MIN_QUALITY,
            VirtualImage.id.not_in(banked),
        )
        .order_by(VirtualImage.id)
        .limit(BACKFILL_BATCH)
    )
    if after is not None:
        query = query.where(VirtualImage.id > after)
    return sorted(db.session.scalars(query), key=lambda image: str(image.reviewed_by_id))


def remove_approved(images: list[VirtualImage]) -> int:
    """A person approved these images: the entries their rejection added are taken out again."""
    removed = db.session.execute(
        delete(BankEntry).where(
            BankEntry.origin == EntryOrigin.REVIEW,
            BankEntry.origin_image_id.in_([image.id for image in images]),
        )
    ).rowcount
    db.session.commit()
    return removed


def _crop_hashes(image: VirtualImage) -> str | None:
    """The hashes of the image's centre crops, from its stored thumbnail (PDQ sees 64x64 anyway)."""
    thumbnail = image.session.image(ImageKind.THUMBNAIL_PROCESSED)
    if thumbnail is None:
        return None
    try:
        pixels = Image.open(io.BytesIO(get_storage().get(thumbnail.key)))
    except ObjectMissing:
        log.warning("thumbnail missing: no crop hashes", extra={"virtual_image_id": str(image.id)})
        return None
    return "".join(crop.pdq for crop in crop_fingerprints(pixels))
