"""My photos and the job page filter by verdict and processing state, My photos searches by filename, and
so do the API's listings."""

import re

import pytest
from markupsafe import escape

from tests.support.factories import make_user
from tests.support.jobs import job_status
from tests.support.pages import login
from tests.support.verdicts import job_with, photo_with
from webapp.models import ModerationStatus, Role, SessionStatus
from webapp.views import jobs

# (filename, verdict, processing state): every verdict, and every state among them.
PHOTOS = [
    ("approved.jpg", "approved", "completed"),
    ("flagged.jpg", "flagged", "completed"),
    ("rejected.jpg", "rejected", "completed"),
    ("error.jpg", "error", "failed"),
    ("working.jpg", "pending", "processing"),
    ("waiting.jpg", "pending", "pending"),
]
CARD = re.compile(
    r'<article class="card[^"]*"[^>]*data-status="(?P<state>\w+)"\s*data-verdict="(?P<verdict>\w+)"'
    r'.*?class="filename"[^>]*>(?P<name>[^<]+)</a>',
    re.S,
)
ROW = re.compile(
    r'<tr data-upload-order="\d+" data-processing-status="(?P<state>\w+)" '
    r'data-moderation-status="(?P<verdict>\w+)">.*?<td><a href="/photos/[^"]+">(?P<name>[^<]+)</a>',
    re.S,
)


@pytest.fixture
def photos(app, user, parked) -> dict[str, str]:
    """PHOTOS, uploaded by `user`: their session ids by filename."""
    return {name: str(photo_with(app, user, name, *described).session_id) for name, *described in PHOTOS}


@pytest.fixture
def browser(client, user):
    login(client, user.email, user.password)
    return client


def cards(html: str) -> dict[str, tuple[str, str]]:
    """My photos' cards: each one's state and verdict, by filename."""
    return {card["name"]: (card["state"], card["verdict"]) for card in CARD.finditer(html)}


def rows(html: str) -> dict[str, tuple[str, str]]:
    """A job page's image rows: each one's state and verdict, by filename."""
    return {row["name"]: (row["state"], row["verdict"]) for row in ROW.finditer(html)}


def listed(client, person, query: str, photos: dict[str, str]) -> set[str]:
    """The filenames of the photos GET /api/photos lists for a query."""
    names = {session_id: name for name, session_id in photos.items()}
    answer = client.get(f"/api/photos?{query}", headers=person.headers).get_json()
    return {names[photo["session_id"]] for photo in answer["photos"]}


def test_my_photos_shows_each_photos_verdict_beside_its_state(browser, photos):
    html = browser.get("/photos").get_data(as_text=True)

    assert cards(html) == {name: (state, verdict) for name, verdict, state in PHOTOS}
    assert html.count("<dt>Verdict</dt>") == len(PHOTOS)
    assert '<span class="badge badge-flagged" data-status="flagged">flagged</span></dd>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("verdict=flagged", {"flagged.jpg"}),
        ("verdict=pending", {"working.jpg", "waiting.jpg"}),
        ("state=failed", {"error.jpg"}),
        ("state=completed", {"approved.jpg", "flagged.jpg", "rejected.jpg"}),
        ("verdict=flagged&verdict=rejected", {"flagged.jpg", "rejected.jpg"}),
        ("verdict=pending&state=processing", {"working.jpg"}),
        ("verdict=pending&verdict=error&state=pending&state=failed", {"waiting.jpg", "error.jpg"}),
        ("verdict=approved&state=failed", set()),
        ("verdict=&state=", {name for name, _, _ in PHOTOS}),
    ],
)
def test_each_filter_narrows_my_photos_and_the_api_alike(browser, user, photos, query, expected):
    html = browser.get(f"/photos?{query}").get_data(as_text=True)

    assert set(cards(html)) == expected
    assert listed(browser, user, query, photos) == expected
    assert browser.get(f"/api/photos?{query}", headers=user.headers).get_json()["total"] == len(expected)
    for chosen in re.findall(r"(\w+)=(\w+)", query):
        assert f'name="{chosen[0]}" value="{chosen[1]}" checked' in html


def test_each_filter_value_counts_the_photos_it_would_show_under_the_other_filter(browser, photos):
    everything = browser.get("/photos").get_data(as_text=True)
    completed = browser.get("/photos?state=completed").get_data(as_text=True)

    def count(html: str, value: str) -> int:
        return int(re.search(rf'data-count="{value}">(\d+)<', html).group(1))

    assert [count(everything, f"verdict-{verdict}") for verdict in ModerationStatus] == [2, 1, 1, 1, 1]
    assert [count(everything, f"state-{state}") for state in SessionStatus] == [1, 1, 3, 1]
    assert [count(completed, f"verdict-{verdict}") for verdict in ModerationStatus] == [0, 1, 1, 1, 0]
    assert [count(completed, f"state-{state}") for state in SessionStatus] == [1, 1, 3, 1]
    assert "<small>6</small>" in completed and "3 of 6 photos" in completed
    assert "No photos match these filters" in browser.get("/photos?verdict=approved&state=failed").get_data(
        as_text=True
    )


def test_htmx_gets_the_filtered_list_alone_and_a_history_restore_the_whole_page(browser, photos):
    fragment = browser.get("/photos?verdict=flagged", headers={"HX-Request": "true"})
    restored = browser.get(
        "/photos?verdict=flagged", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    html = fragment.get_data(as_text=True)
    assert 'id="photo-list"' in html and "<html" not in html and set(cards(html)) == {"flagged.jpg"}
    assert 'hx-get="/photos" hx-trigger="change, submit" hx-target="#photo-list"' in html
    assert "<html" in restored.get_data(as_text=True)
    assert {"HX-Request", "HX-History-Restore-Request"} <= set(fragment.headers["Vary"].split(", "))


def test_paging_keeps_the_filters(app, browser, user, parked):
    for number in range(25):
        photo_with(app, user, f"flagged-{number:02}.jpg", "flagged", "completed")
    photo_with(app, user, "approved.jpg", "approved", "completed")

    first = browser.get("/photos?verdict=flagged&state=completed").get_data(as_text=True)
    older = re.search(r'href="([^"]+)">Older →', first).group(1).replace("&amp;", "&")
    second = browser.get(older).get_data(as_text=True)

    assert older == "/photos?page=2&verdict=flagged&state=completed"
    assert len(cards(first)) == 24 and "approved.jpg" not in cards(first) and "Page 1 of 2" in first
    assert set(cards(second)) == {"flagged-00.jpg"} and "Page 2 of 2" in second
    assert 'href="/photos?page=1&amp;verdict=flagged&amp;state=completed">← Newer' in second
    answer = browser.get("/api/photos?verdict=flagged&per_page=10&page=3", headers=user.headers).get_json()
    assert (answer["total"], len(answer["photos"])) == (25, 5)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("verdict=maybe", "verdict"),
        ("verdict=flagged&verdict=Flagged", "verdict"),
        ("state=approved", "state"),
        ("verdict=flagged&state=done", "state"),
    ],
)
def test_unknown_filter_values_are_400_naming_the_parameter(app, browser, user, parked, query, parameter):
    job_id = job_with(app, user, [("a.jpg", "flagged", "completed")])

    for path in ("/api/photos", f"/api/bulk-nsfw/{job_id}/status"):
        refused = browser.get(f"{path}?{query}", headers=user.headers)
        assert refused.status_code == 400, path
        assert refused.get_json()["error"]["code"] == "invalid_parameter"
        assert f"'{parameter}'" in refused.get_json()["error"]["message"]
    for path in ("/photos", f"/jobs/{job_id}"):
        page = browser.get(f"{path}?{query}")
        assert page.status_code == 400, path
        html = page.get_data(as_text=True)
        assert 'data-code="invalid_parameter"' in html and f"&#39;{parameter}&#39;" in html


# (filename, verdict): names a search tells apart, LIKE's wildcards among them.
NAMED = [
    ("IMG_0001.JPG", "approved"),
    ("img_0002.jpg", "flagged"),
    ("beach 100%.jpg", "approved"),
    ("beach_1.jpg", "flagged"),
    ("beach-2.jpg", "approved"),
    ("Screenshot 10.00.00\u202fAM.png", "approved"),
]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("img", {"IMG_0001.JPG", "img_0002.jpg"}),
        ("IMG_000", {"IMG_0001.JPG", "img_0002.jpg"}),
        ("  Beach ", {"beach 100%.jpg", "beach_1.jpg", "beach-2.jpg"}),
        ("100%", {"beach 100%.jpg"}),
        ("h_1", {"beach_1.jpg"}),
        ("%", {"beach 100%.jpg"}),
        ("_", {"IMG_0001.JPG", "img_0002.jpg", "beach_1.jpg"}),
        ("\u202fam", {"Screenshot 10.00.00\u202fAM.png"}),
        ("landscape", set()),
    ],
)
def test_the_filename_search_finds_part_of_a_name_in_any_case_on_the_page_and_the_api(
    app, browser, user, parked, search, expected
):
    photos = {
        name: str(photo_with(app, user, name, verdict, "completed").session_id) for name, verdict in NAMED
    }

    html = browser.get("/photos", query_string={"filename": search}).get_data(as_text=True)
    answer = browser.get("/api/photos", query_string={"filename": search}, headers=user.headers).get_json()

    assert set(cards(html)) == expected
    names = {session_id: name for name, session_id in photos.items()}
    assert {names[photo["session_id"]] for photo in answer["photos"]} == expected
    assert answer["total"] == len(expected)
    assert f'value="{escape(search.strip())}"' in html  # the box shows what was searched for


def test_the_counts_follow_the_search_and_the_pager_keeps_it(app, browser, user, parked):
    for number in range(25):
        photo_with(app, user, f"beach-{number:02}.jpg", "flagged", "completed")
    for name, verdict in NAMED:
        photo_with(app, user, name, verdict, "completed")

    html = browser.get("/photos?filename=BEACH&verdict=flagged").get_data(as_text=True)

    assert re.search(r'data-count="verdict-flagged">26<', html)
    assert re.search(r'data-count="verdict-approved">2<', html)
    assert "26 of 31 photos" in html and "<small>31</small>" in html
    older = re.search(r'href="([^"]+)">Older →', html).group(1).replace("&amp;", "&")
    assert older == "/photos?page=2&filename=BEACH&verdict=flagged"
    assert set(cards(browser.get(older).get_data(as_text=True))) == {"beach-00.jpg", "beach-01.jpg"}


@pytest.mark.parametrize(
    "search", ["x" * 256, "a\u0000b", "line\nbreak"], ids=["256 characters", "NUL", "newline"]
)
def test_a_search_too_long_or_with_control_characters_is_400(browser, user, search):
    refused = browser.get("/api/photos", query_string={"filename": search}, headers=user.headers)
    page = browser.get("/photos", query_string={"filename": search})

    assert refused.status_code == 400 and page.status_code == 400
    assert refused.get_json()["error"]["code"] == "invalid_parameter"
    assert "'filename' must be at most 255 characters" in refused.get_json()["error"]["message"]


def test_another_users_photos_never_appear_however_filtered(app, browser, user, other_user, photos):
    theirs = photo_with(app, other_user, "theirs.jpg", "flagged", "completed")

    for query in ("", "verdict=flagged", "state=completed", "verdict=flagged&state=completed"):
        html = browser.get(f"/photos?{query}").get_data(as_text=True)
        assert "theirs.jpg" not in html and str(theirs.session_id) not in html
        assert listed(browser, user, query, photos) <= set(photos)
    assert 'data-count="verdict-flagged">1<' in browser.get("/photos").get_data(as_text=True)
    admin = make_user(app, "admin@example.com", role=Role.ADMIN)
    answer = browser.get("/api/photos?verdict=flagged", headers=admin.headers).get_json()
    assert {photo["session_id"] for photo in answer["photos"]} == {
        photos["flagged.jpg"],
        str(theirs.session_id),
    }


JOB = [
    ("a.jpg", "approved", "completed"),
    ("b.jpg", "flagged", "completed"),
    ("c.jpg", "pending", "processing"),
    ("d.jpg", "flagged", "completed"),
    ("e.jpg", "error", "failed"),
]


def test_the_job_page_filters_its_table_and_polls_with_the_same_filters(app, browser, user, parked):
    job_id = job_with(app, user, JOB)

    html = browser.get(f"/jobs/{job_id}?verdict=flagged&page=1").get_data(as_text=True)
    polled = browser.get(f"/jobs/{job_id}?verdict=flagged", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )

    assert rows(html) == {"b.jpg": ("completed", "flagged"), "d.jpg": ("completed", "flagged")}
    assert f'hx-get="/jobs/{job_id}?page=1&amp;verdict=flagged" hx-trigger="every 2s"' in html
    assert 'name="verdict" value="flagged" checked' in html and "2 of 5 images" in html
    assert set(rows(polled)) == {"b.jpg", "d.jpg"} and "<html" not in polled
    assert 'hx-target="#job"' in html and 'hx-sync="closest #job:replace"' in html
    for query, expected in [
        ("state=completed", {"a.jpg", "b.jpg", "d.jpg"}),
        ("verdict=pending&verdict=error", {"c.jpg", "e.jpg"}),
        ("verdict=flagged&state=failed", set()),
        ("", {"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"}),
    ]:
        assert set(rows(browser.get(f"/jobs/{job_id}?{query}").get_data(as_text=True))) == expected, query


def test_the_job_pages_pager_keeps_its_filters(app, browser, user, parked, monkeypatch):
    monkeypatch.setattr(jobs, "IMAGES_PER_PAGE", 2)
    job_id = job_with(app, user, JOB)

    first = browser.get(f"/jobs/{job_id}?state=completed").get_data(as_text=True)
    second = browser.get(f"/jobs/{job_id}?state=completed&page=2").get_data(as_text=True)

    assert list(rows(first)) == ["a.jpg", "b.jpg"] and "Page 1 of 2" in first
    assert f'href="/jobs/{job_id}?page=2&amp;state=completed">Next →' in first
    assert list(rows(second)) == ["d.jpg"] and "Page 2 of 2" in second
    assert f'hx-get="/jobs/{job_id}?page=2&amp;state=completed"' in second


def test_the_job_status_api_filters_its_images_and_keeps_its_counters(app, client, user, other_user, parked):
    job_id = job_with(app, user, JOB)
    everything = job_status(client, user.headers, job_id)

    flagged = job_status(client, user.headers, job_id, verdict="flagged")
    paged = job_status(client, user.headers, job_id, state=["completed", "failed"], per_page=2, page=2)

    assert [image["filename"] for image in flagged["images"]] == ["b.jpg", "d.jpg"]
    assert {image["moderation_status"] for image in flagged["images"]} == {"flagged"}
    assert flagged["pages"] == 1
    counters = ("total", "pending", "approved", "flagged", "rejected", "failed", "refused")
    assert {name: flagged[name] for name in counters} == {name: everything[name] for name in counters}
    assert [image["filename"] for image in paged["images"]] == ["d.jpg", "e.jpg"] and paged["pages"] == 2
    assert (
        client.get(f"/api/bulk-nsfw/{job_id}/status?verdict=flagged", headers=other_user.headers).status_code
        == 404
    )
