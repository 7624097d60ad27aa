"""Hash bank pages: every bank and what it matched, and one bank's settings and entries.

Moderators read them and add the hashes of images they reviewed; making banks, their settings,
turning entries off and on and importing lists are admins'."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.auth import admin_required, moderator_pages_only
from webapp.errors import AppError
from webapp.models import Bank
from webapp.models.banks import DEFAULT_DISTANCE, MAX_DISTANCE
from webapp.services.banks import banks, hash_lists, import_reports
from webapp.views.banks_api import hash_list_stream
from webapp.views.params import MAX_NOTE_LENGTH, form_int, form_string, int_arg

blueprint = Blueprint("banks", __name__, url_prefix="/admin/banks")

ENTRIES_PER_PAGE = 50


blueprint.before_request(moderator_pages_only)


@blueprint.get("")
def bank_list():
    """Every bank with its counts, a form for a new one, and the latest images banks decided."""
    return _list_page()


@blueprint.post("")
@admin_required
def create_bank():
    """A new bank from the form; on to its page."""
    try:
        distance = _distance()
        bank = banks.create_bank(
            form_string("name", banks.NAME_LENGTH) or "",
            request.form.get("action", ""),
            DEFAULT_DISTANCE if distance is None else distance,
            "enabled" in request.form,
        )
    except AppError as error:
        return _list_page(create_error=error), error.status
    flash(f"Bank {bank.name} created.", "ok")
    return redirect(url_for("banks.bank", bank_id=bank.id), 303)


@blueprint.get("/<bank_id>")
def bank(bank_id: str):
    """One bank: its settings, a page of its entries, adding and importing hashes, its latest matches;
    with `import_report`, what a failed import said."""
    found = banks.get_bank(bank_id)
    return _bank_page(found, import_error=import_reports.find(found, request.args.get("import_report")))


@blueprint.post("/<bank_id>")
@admin_required
def update_bank(bank_id: str):
    """Save the settings form: name, action, distance and whether the bank matches at all."""
    found = banks.get_bank(bank_id)
    try:
        banks.update_bank(
            found,
            name=form_string("name", banks.NAME_LENGTH) or "",
            action=request.form.get("action", ""),
            distance=_distance(),
            enabled="enabled" in request.form,
        )
    except AppError as error:
        return _bank_page(found, settings_error=error), error.status
    flash("Settings saved.", "ok")
    return redirect(url_for("banks.bank", bank_id=found.id), 303)


@blueprint.post("/<bank_id>/entries")
def add_entry(bank_id: str):
    """Add one PDQ hash by hand, with a note saying where it came from."""
    found = banks.get_bank(bank_id)
    try:
        _entry, created = banks.add_entry(
            found,
            form_string("pdq_hash", 200) or "",
            form_string("note", MAX_NOTE_LENGTH),
            current_user,
        )
    except AppError as error:
        return _bank_page(found, entry_error=error), error.status
    flash("Entry added." if created else "The bank has that hash already.", "ok")
    return redirect(url_for("banks.bank", bank_id=found.id), 303)


@blueprint.post("/<bank_id>/entries/<entry_id>")
@admin_required
def set_entry(bank_id: str, entry_id: str):
    """Disable an entry (a false positive) or enable it again; back to the same row of the table."""
    found = banks.get_bank(bank_id)
    entry = banks.set_entry(banks.get_entry(found, entry_id), enabled=request.form.get("enabled") == "true")
    flash(f"Entry {'enabled' if entry.enabled else 'disabled'}.", "ok")
    page = request.form.get("page", 1, type=int)
    return redirect(url_for("banks.bank", bank_id=found.id, page=page, _anchor=f"entry-{entry.id}"), 303)


@blueprint.post("/<bank_id>/import")
@admin_required
def import_hashes(bank_id: str):
    """An uploaded hash list: every line added, or, if one is malformed, none and the bad lines named.

    Either way the answer is a redirect, so a reload of the page it lands on sends nothing again.
    """
    found = banks.get_bank(bank_id)
    try:
        added = hash_lists.import_hashes(found, hash_list_stream(), current_user)
    except AppError as error:
        report = import_reports.keep(found, error)
        return redirect(url_for("banks.bank", bank_id=found.id, import_report=report, _anchor="import"), 303)
    flash(f"{added.added} added, {added.present} already present.", "ok")
    return redirect(url_for("banks.bank", bank_id=found.id), 303)


def _distance() -> int | None:
    return form_int("distance", 0, MAX_DISTANCE)


def _list_page(**context) -> str:
    return render_template(
        "pages/admin_banks.html",
        summaries=banks.summaries(),
        matches=banks.recent_matches(),
        review_bank=current_app.config["REVIEW_REJECTS_BANK"].strip(),
        default_distance=DEFAULT_DISTANCE,
        max_distance=MAX_DISTANCE,
        **context,
    )


def _bank_page(bank: Bank, **context) -> str:
    page = int_arg("page", 1)
    entries, total = banks.entries(bank, page, ENTRIES_PER_PAGE)
    return render_template(
        "pages/admin_bank.html",
        bank=bank,
        summary=banks.summary(bank),
        entries=entries,
        page=page,
        pages=max(1, -(-total // ENTRIES_PER_PAGE)),
        matches=banks.recent_matches(bank),
        review_bank=current_app.config["REVIEW_REJECTS_BANK"].strip(),
        max_distance=MAX_DISTANCE,
        **context,
    )
