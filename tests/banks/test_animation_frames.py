"""Animations: a banked picture in any sampled frame decides the upload, which says the frame, through
real workers; and a person's rejection banks the frames too."""

import io

import pytest

from tests.banks.test_hash_banks import bank_photo, moderation, new_bank, review, upload_for
from tests.support.factories import encoded, scene, wait_until_terminal
from tests.support.pages import signed_in

SIZE = (480, 360)
BANKED = scene(5, SIZE)


def animation(image_format: str, banked_at: int | None = 3, seeds: range = range(100, 107)) -> bytes:
    """Seven innocent scenes, the banked picture in place of frame `banked_at` (counted from 0)."""
    pictures = [scene(seed, SIZE) for seed in seeds]
    if banked_at is not None:
        pictures[banked_at] = BANKED
    buffer = io.BytesIO()
    pictures[0].save(buffer, image_format, save_all=True, append_images=pictures[1:], duration=100)
    return buffer.getvalue()


def processed_by_worker(app, client, person, data: bytes) -> str:
    session_id = upload_for(client, person, data, "local")
    assert wait_until_terminal(app, session_id) == "completed"
    return session_id


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
def test_a_banked_picture_in_the_middle_of_an_animation_decides_it_and_names_the_frame(
    app, client, user, admin, worker, image_format
):
    bank_photo(client, admin, new_bank(client, admin, "Known"), encoded(BANKED))

    session_id = processed_by_worker(app, client, user, animation(image_format))

    decided = moderation(client, admin, session_id)
    assert (decided["status"], decided["source"]) == ("rejected", "hash_match")
    assert (decided["match"]["bank"], decided["match"]["frame"]) == ("Known", 3)
    assert decided["match"]["distance"] <= 31
    page = signed_in(app.test_client(), admin).get(f"/photos/{session_id}").get_data(as_text=True)
    assert "frame 4</span> of the animation" in page


def test_an_animation_without_the_banked_picture_and_a_still_photo_keep_their_providers_verdict(
    app, client, user, admin, worker
):
    bank_photo(client, admin, new_bank(client, admin, "Known"), encoded(BANKED))

    innocent = moderation(client, admin, processed_by_worker(app, client, user, animation("GIF", None)))
    still = moderation(client, admin, processed_by_worker(app, client, user, encoded(scene(120, SIZE))))
    banked_still = moderation(client, admin, processed_by_worker(app, client, user, encoded(BANKED)))

    for verdict in (innocent, still):
        assert (verdict["status"], verdict["source"], verdict["match"]) == ("approved", "local", None)
    assert (banked_still["status"], banked_still["source"]) == ("rejected", "hash_match")
    assert "frame" not in banked_still["match"]


def test_an_animation_rejected_in_review_is_known_again_with_its_frame_elsewhere(
    app, client, user, admin, worker
):
    first = moderation(client, admin, processed_by_worker(app, client, user, animation("GIF", 3)))
    assert first["source"] == "local"
    review(client, admin, first["virtual_image_id"], "rejected")

    moved = animation("WEBP", 5, range(200, 207))
    again = moderation(client, admin, processed_by_worker(app, client, user, moved))

    assert (again["status"], again["source"]) == ("rejected", "hash_match")
    assert again["match"]["frame"] == 5
    assert again["match"]["origin_image_id"] == first["virtual_image_id"]
