"""What decides a photo before any provider: its exact bytes judged before, or a bank entry it matches.

Precedence, most deliberate first: a person's verdict on the same bytes; then a bank match (banks
are the lists people keep now); then a machine's verdict on the same bytes. A match needs the
photo's PDQ hash to be of usable quality. An animation's first frame is looked up first, then its
other sampled frames (issue 22): any frame's match decides it, and the answer names the frame.
Each decision is an Outcome for the one verdict path.

Only the same owner's photos count as the same bytes: a copy of another user's photo is moderated
as a fresh upload, so its answer, its pages and how long it takes say nothing of the earlier one
(issue 18). Bank matches count whoever uploaded the photo: recognising known images is their purpose.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from redis.exceptions import RedisError
from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging import MIN_QUALITY
from webapp.imaging.animation import FrameFingerprint
from webapp.models import Bank, BankAction, BankEntry, ModerationStatus, PhotoSession, VirtualImage
from webapp.providers import ModerationResult, label
from webapp.queue import redis_connection
from webapp.services.banks import bank_index
from webapp.services.verdicts import Outcome

log = logging.getLogger(__name__)

HASH_MATCH = "hash_match"
DUPLICATE_OF = "duplicate_of"
ACTION_STATUS = {BankAction.REJECT: ModerationStatus.REJECTED, BankAction.FLAG: ModerationStatus.FLAGGED}
DECIDED = (ModerationStatus.APPROVED, ModerationStatus.FLAGGED, ModerationStatus.REJECTED)
# Lookups are timed in every worker and counted in Redis, where a scrape from any process sees them all.
LOOKUPS_KEY = "photogate:hash-lookups"
LOOKUP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


@dataclass(frozen=True)
class Match:
    entry: BankEntry
    bank: Bank
    distance: int
    # The index of the animation frame that matched (0 is the first), None for the image's own hash.
    frame: int | None = None


def decided_before(image: VirtualImage, frames: Sequence[FrameFingerprint] = ()) -> Outcome | None:
    """The outcome that decides this image without its provider, or None if nothing does; `frames`
    are an animation's sampled frames after the first."""
    earlier = earlier_copy(image)
    if earlier is not None and earlier.reviewed_at is not None:
        return _copied(earlier)
    match = find_match(image.pdq_hash, image.pdq_quality) or _frame_match(frames)
    if match is not None:
        return _matched(match)
    return _copied(earlier) if earlier is not None else None


def earlier_copy(image: VirtualImage) -> VirtualImage | None:
    """Another of its owner's images with the same bytes that has a verdict: one a person decided
    first, else the latest."""
    return db.session.scalars(
        select(VirtualImage)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .where(
            VirtualImage.sha256 == image.sha256,
            VirtualImage.id != image.id,
            VirtualImage.moderation_status.in_(DECIDED),
            PhotoSession.owner_id == image.session.owner_id,
        )
        .order_by(VirtualImage.reviewed_at.is_(None), VirtualImage.updated_at.desc())
        .limit(1)
    ).first()


def find_match(pdq_hash: str | None, quality: int | None) -> Match | None:
    """The enabled entry of an enabled bank this hash matches within the bank's distance: a reject
    bank's before a flag bank's, then the closest. None for a hash too flat to match on."""
    if pdq_hash is None or quality is None or quality < MIN_QUALITY:
        return None
    started = time.perf_counter()
    candidates = bank_index.current(db.session.connection()).candidates(pdq_hash)
    match = _best(candidates) if candidates else None
    _count_lookup(time.perf_counter() - started)
    return match


def _frame_match(frames: Sequence[FrameFingerprint]) -> Match | None:
    """The best match of any of the frames, as `find_match` ranks them; the earliest frame on a tie."""
    matches = [
        replace(match, frame=frame.index)
        for frame in frames
        if (match := find_match(frame.fingerprint.pdq, frame.fingerprint.quality))
    ]
    return min(matches, key=_rank, default=None)


def _rank(match: Match) -> tuple:
    return (match.bank.action is not BankAction.REJECT, match.distance, match.frame or 0, match.entry.id)


def _best(candidates: dict[int, int]) -> Match | None:
    rows = db.session.execute(
        select(BankEntry, Bank)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.id.in_(candidates), BankEntry.enabled, Bank.enabled)
    ).all()
    eligible = [
        Match(entry, bank, candidates[entry.id])
        for entry, bank in rows
        if candidates[entry.id] <= bank.distance
    ]
    return min(eligible, key=_rank, default=None)


def _matched(match: Match) -> Outcome:
    bank, entry = match.bank, match.entry
    similarity = 100 * (1 - match.distance / 256)
    answer = {
        "HashMatch": {
            "bank_id": str(bank.id),
            "bank": bank.name,
            "action": bank.action.value,
            "entry_id": str(entry.id),
            "distance": match.distance,
            "origin_image_id": str(entry.origin_image_id) if entry.origin_image_id else None,
        }
    }
    if match.frame is not None:
        answer["HashMatch"]["frame"] = match.frame
    result = ModerationResult(
        [label(f"Matched bank {bank.name}", "", similarity, 1)], "pdq", HASH_MATCH, answer
    )
    return Outcome(ACTION_STATUS[bank.action], result, matched_entry_id=entry.id)


def _copied(earlier: VirtualImage) -> Outcome:
    answer = dict(earlier.rekognition_data or {}) | {"DuplicateOf": str(earlier.id)}
    result = ModerationResult(earlier.labels, earlier.model_version or "", DUPLICATE_OF, answer)
    return Outcome(earlier.moderation_status, result, duplicate_of_id=earlier.id)


def _count_lookup(seconds: float) -> None:
    try:
        with redis_connection().pipeline(transaction=False) as pipe:
            pipe.hincrby(LOOKUPS_KEY, "count", 1)
            pipe.hincrbyfloat(LOOKUPS_KEY, "sum", seconds)
            for bound in LOOKUP_BUCKETS:
                if seconds <= bound:
                    pipe.hincrby(LOOKUPS_KEY, f"le:{bound}", 1)
            pipe.execute()
    except RedisError:
        # A lost count must not hold up a photo: its verdict is what matters.
        log.warning("hash lookup not counted: Redis did not answer", exc_info=True)
