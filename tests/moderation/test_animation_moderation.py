"""Animations are moderated on their sampled frames and the worst frame decides, through the pipeline:
real workers with the real model on innocent animations (the frames looked at), and the pipeline in this
process with a stand-in model that answers by colour (which frame decided, on the page and in the API)."""

import io
import uuid
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.banks.test_hash_banks import moderation, upload_for
from tests.providers.test_worst_frame import ByColour, grainy
from tests.support.factories import encoded, scene, wait_until_terminal
from tests.support.pages import signed_in
from tests.support.processes import start_worker, stop
from webapp.extensions import db
from webapp.models import VirtualImage
from webapp.providers import registry
from webapp.services.photos import processing

SIZE = (480, 360)


def animation(pictures: list[Image.Image], image_format: str) -> bytes:
    buffer = io.BytesIO()
    pictures[0].save(buffer, image_format, save_all=True, append_images=pictures[1:], duration=100)
    return buffer.getvalue()


def stored_answer(app, session_id: str) -> dict:
    """The provider's whole answer as stored for the photo."""
    with app.app_context():
        return (
            db.session.query(VirtualImage).filter_by(session_id=uuid.UUID(session_id)).one().rekognition_data
        )


def moderated_by_worker(app, client, person, data: bytes) -> str:
    session_id = upload_for(client, person, data, "local")
    assert wait_until_terminal(app, session_id) == "completed"
    return session_id


@pytest.fixture
def three_frame_worker(app, service_env, monkeypatch) -> Iterator[None]:
    """A worker that samples at most 3 frames of an animation, on a queue of its own."""
    queue = f"{service_env['QUEUE_NAME']}-three-frames-{uuid.uuid4().hex[:4]}"
    monkeypatch.setitem(app.config, "QUEUE_NAME", queue)
    process = start_worker(service_env, {"QUEUE_NAME": queue, "ANIMATION_SAMPLE_FRAMES": "3"})
    yield
    stop(process)


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
def test_the_model_looks_at_every_frame_of_a_seven_frame_animation(app, client, user, worker, image_format):
    pictures = [scene(seed, SIZE) for seed in range(300, 307)]

    session_id = moderated_by_worker(app, client, user, animation(pictures, image_format))

    frames = stored_answer(app, session_id)["Frames"]
    assert frames["sampled"] == [0, 1, 2, 3, 4, 5, 6]
    assert [frame["frame"] for frame in frames["per_frame"]] == frames["sampled"]
    assert moderation(client, user, session_id)["status"] == "approved"


def test_with_fewer_frames_allowed_the_model_looks_at_that_many(app, client, user, three_frame_worker):
    pictures = [scene(seed, SIZE) for seed in range(310, 317)]

    session_id = moderated_by_worker(app, client, user, animation(pictures, "GIF"))

    assert stored_answer(app, session_id)["Frames"]["sampled"] == [0, 3, 6]


def test_a_still_photos_answer_is_unchanged(app, client, user, worker):
    session_id = moderated_by_worker(app, client, user, encoded(scene(320, SIZE)))

    assert set(stored_answer(app, session_id)) == {
        "ModerationLabels",
        "ModerationModelVersion",
        "LocalModelOutput",
    }
    decided = moderation(client, user, session_id)
    assert (decided["status"], decided["frame"]) == ("approved", None)


def test_the_worst_frame_in_the_middle_decides_and_the_page_and_api_name_it(
    app, client, user, admin, parked, monkeypatch
):
    monkeypatch.setattr(registry, "local_model", ByColour)
    colours = ["green", "blue", "green", "red", "green", "yellow", "green"]
    session_id = upload_for(client, user, animation([grainy(c, SIZE) for c in colours], "GIF"), "local")
    still_id = upload_for(client, user, encoded(grainy("red", SIZE)), "local")

    with app.app_context():
        for photo in (session_id, still_id):
            processing.process_session(uuid.UUID(photo))

    for person in (user, admin):
        decided = moderation(client, person, session_id)
        assert (decided["status"], decided["frame"]) == ("rejected", 3)
        assert decided["labels"][0]["Name"] == "Explicit"
        page = signed_in(app.test_client(), person).get(f"/photos/{session_id}").get_data(as_text=True)
        assert 'data-labels-frame="3">frame 4</span> of the animation' in page
    still = moderation(client, user, still_id)
    assert (still["status"], still["frame"]) == ("rejected", None)
    page = signed_in(app.test_client(), user).get(f"/photos/{still_id}").get_data(as_text=True)
    assert "data-labels-frame" not in page
