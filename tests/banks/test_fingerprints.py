"""Every photo carries its PDQ fingerprint: the hash that finds near-copies of an image already judged."""

import re
import uuid

import pytest
from PIL import ImageEnhance
from sqlalchemy import update
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

from tests.support.factories import encoded, scene, upload, wait_until_terminal
from webapp.extensions import db
from webapp.imaging import MIN_QUALITY, Fingerprint, fingerprint, make_derivatives
from webapp.models import VirtualImage

MATCH_DISTANCE = 31  # PDQ's usual threshold


def hashed(data: bytes):
    return make_derivatives(data).fingerprint


def test_the_fingerprint_is_threatexchanges_pdq_of_the_pixels():
    im = scene(1, (480, 360))
    found = fingerprint(im)

    assert (found.pdq, found.quality) == pdq_from_bytes(encoded(im))


COPIES = {
    "resized-50": lambda im: encoded(im.resize((im.width // 2, im.height // 2))),
    "jpeg-q50": lambda im: encoded(im, "JPEG", quality=50),
    "brighter": lambda im: encoded(ImageEnhance.Brightness(im).enhance(1.2)),
}


@pytest.mark.parametrize("copy", list(COPIES))
def test_near_copies_are_within_match_distance_and_other_pictures_are_not(copy):
    original = scene(7)

    reference = hashed(encoded(original))

    assert reference.quality >= 50
    assert reference.distance(hashed(COPIES[copy](original))) <= MATCH_DISTANCE
    assert all(reference.distance(hashed(encoded(scene(seed)))) > MATCH_DISTANCE for seed in range(8, 12))


def test_a_processed_photo_carries_its_fingerprint_beside_its_sha256(app, client, user, worker):
    data = encoded(scene(3), "JPEG", quality=90)
    session_id = upload(client, user.headers, data).get_json()["session_id"]

    assert wait_until_terminal(app, session_id) == "completed"

    moderation = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()["moderation"]
    assert re.fullmatch(r"[0-9a-f]{64}", moderation["pdq_hash"])
    assert 0 <= moderation["pdq_quality"] <= 100
    assert moderation["pdq_hash"] == hashed(data).pdq
    page = client.get(f"/photos/{session_id}", headers=user.headers).get_data(as_text=True)
    assert moderation["pdq_hash"] in page and moderation["sha256"] in page


def test_photos_from_before_hashing_are_fingerprinted_by_the_backfill(app, client, user, worker):
    session_id = upload(client, user.headers, encoded(scene(5), "JPEG")).get_json()["session_id"]
    wait_until_terminal(app, session_id)
    with app.app_context():
        image = db.session.query(VirtualImage).filter_by(session_id=uuid.UUID(session_id)).one()
        hashed_by_worker = image.pdq_hash
        db.session.execute(update(VirtualImage).values(pdq_hash=None, pdq_quality=None))
        db.session.commit()
    runner = app.test_cli_runner()

    first, again = (
        runner.invoke(args=["photos", "fingerprint"]),
        runner.invoke(args=["photos", "fingerprint"]),
    )

    assert "Fingerprinted 1 photo(s)." in first.output
    assert "Fingerprinted 0 photo(s)." in again.output
    with app.app_context():
        image = db.session.query(VirtualImage).filter_by(session_id=uuid.UUID(session_id)).one()
        # Recomputed from the processed AVIF: the same pixels, through a lossy encode.
        assert Fingerprint(image.pdq_hash, 0).distance(Fingerprint(hashed_by_worker, 0)) <= 8


def test_the_quality_cut_off_is_threatexchanges():
    from threatexchange.signal_type.pdq.signal import PdqSignal

    assert MIN_QUALITY == PdqSignal.QUALITY_THRESHOLD
