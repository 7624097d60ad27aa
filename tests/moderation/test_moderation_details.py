"""What a viewer learns of how an image was decided: an uploader the labels that decided it, those who
moderate (moderators and admins) all, of anyone's photo."""

from tests.support.factories import make_user
from tests.support.pages import signed_in
from tests.support.reviews import UNDER_THRESHOLDS, waiting_photo
from webapp.models import Role


def label(name: str, parent: str, confidence: float, level: int) -> dict:
    return {"Name": name, "ParentName": parent, "Confidence": confidence, "TaxonomyLevel": level}


# Explicit reaches the flag threshold; a child label stays under it, and Swimwear has no threshold.
FLAGGED = [
    label("Explicit", "", 62.0, 1),
    label("Explicit Nudity", "Explicit", 62.0, 2),
    label("Exposed Buttocks or Anus", "Explicit Nudity", 31.0, 3),
    label("Swimwear or Underwear", "", 97.0, 1),
]


def names(moderation: dict) -> list[str]:
    return [item["Name"] for item in moderation["labels"]]


def test_an_uploader_sees_the_labels_that_decided_the_verdict_and_an_admin_sees_every_one(
    app, user, admin, parked
):
    landscape = waiting_photo(app, user, "landscape.jpg", "approved", labels=UNDER_THRESHOLDS)
    beach = waiting_photo(app, user, "beach.jpg", "flagged", labels=FLAGGED)
    uploader, moderator = app.test_client(), app.test_client()

    approved = uploader.get(f"/api/photos/{landscape.session_id}", headers=user.headers).get_json()
    flagged = uploader.get(f"/api/photos/{beach.session_id}", headers=user.headers).get_json()
    browser = signed_in(uploader, user)
    landscape_page = browser.get(f"/photos/{landscape.session_id}").get_data(as_text=True)
    beach_page = browser.get(f"/photos/{beach.session_id}").get_data(as_text=True)
    admins = moderator.get(f"/api/photos/{beach.session_id}", headers=admin.headers).get_json()
    admin_page = signed_in(moderator, admin).get(f"/photos/{landscape.session_id}").get_data(as_text=True)

    assert names(approved["moderation"]) == []
    assert names(flagged["moderation"]) == ["Explicit", "Explicit Nudity"]
    assert "Exposed Buttocks" not in landscape_page and "labels-table" not in landscape_page
    assert "No label reached a threshold of the moderation policy." in landscape_page
    assert "<td>Explicit Nudity</td>" in beach_page
    assert "Exposed Buttocks" not in beach_page and "Swimwear" not in beach_page
    assert admins["moderation"]["labels"] == FLAGGED
    assert "<td>Exposed Buttocks or Anus</td><td>Explicit Nudity</td><td>3</td><td>25.0 %</td>" in admin_page


def test_a_moderator_sees_everything_about_how_anyones_photo_was_decided(app, client, user, admin, parked):
    moderator = make_user(app, "moderator@example.com", role=Role.MODERATOR)
    beach = waiting_photo(app, user, "beach.jpg", "flagged", labels=FLAGGED)
    decision = {"verdict": "rejected", "note": "second opinion: borderline", "message": "Please crop it."}
    path = f"/api/virtual-images/{beach.virtual_image_id}/review"
    recorded = client.post(path, headers=admin.headers, json=decision).get_json()

    described = client.get(f"/api/photos/{beach.session_id}", headers=moderator.headers).get_json()
    page = signed_in(app.test_client(), moderator).get(f"/photos/{beach.session_id}").get_data(as_text=True)

    assert described["moderation"]["labels"] == FLAGGED
    assert described["moderation"]["reviews"] == [recorded]
    assert recorded["reviewer"] == "admin@example.com" and recorded["note"] == "second opinion: borderline"
    assert "<td>Swimwear or Underwear</td>" in page
    assert "admin@example.com changed flagged → rejected" in page and "second opinion: borderline" in page
    assert f'hx-post="/review/{beach.virtual_image_id}"' in page  # and may decide again from the page
