"""Large exports: a ticket list written to a file by a worker, with its progress shown."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditAction, AuditEntry
from reports import exports, services
from reports.models import Export, Report
from reports.periods import day_of
from tests.conftest import T0
from tickets.choices import State
from tickets.errors import ApplicationError
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def tickets(centre, make_ticket):
    make_ticket(State.NEW, caller_name='=HYPERLINK("http://x")')
    make_ticket(State.DISPATCHED, fault_type=centre.burst)
    make_ticket(State.CLOSED, fault_type=centre.burst)
    return Ticket.objects.all()


def _export(centre, query="", file_format="xlsx", **options) -> Export:
    return services.export_request(
        actor=centre.supervisor,
        query=query,
        file_format=file_format,
        now=timezone.now(),
        **options,
    )


def _rows(export: Export) -> list[tuple]:
    with export.file.open("rb") as file:
        return list(load_workbook(io.BytesIO(file.read()), read_only=True).worksheets[0].values)


def test_an_export_writes_the_filtered_tickets_and_counts_its_rows(centre, tickets):
    export = _export(centre, query="grade=emergency")

    done = services.export_run(export_id=export.pk, now=timezone.now())

    assert (done.state, done.rows_total, done.rows_done, done.percent) == ("done", 2, 2, 100)
    with done.file.open("rb") as file:
        sheet = load_workbook(io.BytesIO(file.read()), read_only=True).worksheets[0]
        rows = list(sheet.values)
    assert len(rows) == 3
    assert {row[0] for row in rows[1:]} == set(
        tickets.filter(grade="emergency").values_list("number", flat=True)
    )
    assert rows[1][15] == "138****5678"  # masked: nobody asked for the full numbers


def test_cells_that_start_like_a_formula_are_neutralised_in_the_csv(centre, tickets):
    export = _export(centre, file_format="csv")

    done = services.export_run(export_id=export.pk, now=timezone.now())

    text = done.file.open("rb").read().decode("utf-8")
    assert text.startswith("\ufeff")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text
    assert done.rows_done == 3


def test_progress_is_counted_chunk_by_chunk(centre, tickets, monkeypatch):
    monkeypatch.setattr(exports, "TICKET_CHUNK", 2)
    seen = []

    sheet = exports.ticket_sheet(Ticket.objects.all(), on_progress=seen.append)
    rows = list(sheet.rows)

    assert len(rows) == 3
    assert seen == [2, 3]


def test_an_export_is_written_once_and_a_dead_workers_export_is_taken_again(centre, tickets, clock):
    export = _export(centre)
    Export.objects.filter(pk=export.pk).update(state="running", started_at=timezone.now())

    assert services.export_run(export_id=export.pk, now=timezone.now()) is None
    clock.shift(services.EXPORT_STALE + timedelta(minutes=1))
    done = services.export_run(export_id=export.pk, now=timezone.now())
    assert done.state == "done"
    assert services.export_run(export_id=done.pk, now=timezone.now()) is None


def test_exports_no_worker_took_are_sent_again(centre, tickets, clock):
    waiting = _export(centre)
    clock.shift(timedelta(minutes=2))
    fresh = _export(centre)

    with mock.patch("reports.tasks.export_run.delay") as delay:
        sent = services.exports_resume(now=timezone.now())

    assert sent == 1
    delay.assert_called_once_with(waiting.pk)
    assert Export.objects.get(pk=fresh.pk).state == "queued"


def test_a_failed_export_says_so_and_can_be_asked_for_again(centre, tickets):
    export = _export(centre)

    with (
        mock.patch.object(services, "xlsx_write", side_effect=OSError("disk full")),
        pytest.raises(OSError, match="disk full"),
    ):
        services.export_run(export_id=export.pk, now=timezone.now())

    export.refresh_from_db()
    assert export.state == "failed"
    assert export.error
    assert not export.file


def test_the_page_shows_progress_and_polls_only_while_a_file_is_written(client, centre, tickets):
    client.force_login(centre.supervisor)
    asked = client.post("/reports/exports/", {"query": "grade=emergency", "file_format": "xlsx"})
    export = Export.objects.get()
    Export.objects.filter(pk=export.pk).update(
        state="running", started_at=T0, rows_total=4000, rows_done=1000
    )

    running = client.get("/reports/exports/").content.decode()
    services.export_run(
        export_id=export.pk, now=timezone.now() + services.EXPORT_STALE + timedelta(minutes=1)
    )
    done = client.get("/reports/exports/").content.decode()
    download = client.get(f"/reports/exports/{export.pk}/download/")

    assert asked.status_code == 302
    assert 'hx-trigger="every 2s"' in running
    assert 'value="25"' in running
    assert 'hx-trigger="every 2s"' not in done
    assert f"/reports/exports/{export.pk}/download/" in done
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")


def test_bad_filters_or_format_are_refused_and_nothing_is_queued(client, centre, tickets):
    client.force_login(centre.supervisor)

    bad_filter = client.post("/reports/exports/", {"query": "grade=bogus", "file_format": "xlsx"})
    bad_format = client.post("/reports/exports/", {"query": "", "file_format": "exe"})

    assert bad_filter.status_code == 400
    assert bad_format.status_code == 400
    assert 'role="alert"' in bad_filter.content.decode() or "message-error" in (
        bad_filter.content.decode()
    )
    assert not Export.objects.exists()


def test_only_the_requester_downloads_and_only_some_roles_export(client, centre, tickets):
    export = _export(centre)
    services.export_run(export_id=export.pk, now=timezone.now())

    client.force_login(centre.shift_leader)
    assert client.get(f"/reports/exports/{export.pk}/download/").status_code == 404
    assert client.get("/reports/exports/").status_code == 200
    for user in (centre.agent, centre.dispatcher, centre.crew_leader):
        client.force_login(user)
        assert client.get("/reports/exports/").status_code == 403
        assert client.post("/reports/exports/", {"file_format": "csv"}).status_code == 403
    assert Export.objects.count() == 1


def test_the_ticket_list_offers_the_export_of_its_filters(client, centre, tickets):
    client.force_login(centre.supervisor)

    page = client.get("/tickets/?grade=emergency&page=1").content.decode()

    assert 'action="/reports/exports/"' in page
    assert 'name="query" value="grade=emergency"' in page
    client.force_login(centre.agent)
    assert 'action="/reports/exports/"' not in client.get("/tickets/").content.decode()


def test_the_exports_page_names_the_filters_as_a_person_reads_them(client, centre, tickets):
    client.force_login(centre.supervisor)
    client.post("/reports/exports/", {"query": "grade=emergency&state=open", "file_format": "csv"})

    page = client.get("/reports/exports/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "grade: Emergency" in page
    assert "Any open state" in page


# Phones in full only when the supervisor asks, and the audit log has it.


def test_the_supervisor_asks_for_full_phones_and_the_request_and_download_are_logged(
    client, centre, tickets
):
    client.force_login(centre.supervisor)
    client.post(
        "/reports/exports/",
        {"query": "", "file_format": "xlsx", "full_phones": "on"},
        REMOTE_ADDR="10.0.0.5",
    )
    export = Export.objects.get()
    services.export_run(export_id=export.pk, now=timezone.now())

    download = client.get(f"/reports/exports/{export.pk}/download/", REMOTE_ADDR="10.0.0.5")

    assert download.status_code == 200
    assert export.full_phones
    assert _rows(Export.objects.get())[1][15] == "'+8613812345678"  # text, never a formula
    asked = AuditEntry.objects.get(action=AuditAction.EXPORT_REQUESTED)
    taken = AuditEntry.objects.get(action=AuditAction.FILE_DOWNLOADED)
    assert (asked.actor, asked.address, asked.data["full_phones"]) == (
        centre.supervisor,
        "10.0.0.5",
        True,
    )
    assert (taken.actor, taken.data) == (
        centre.supervisor,
        {"full_phones": True, "export": export.pk},
    )


def test_a_shift_leader_exports_masked_phones_only_and_asking_for_more_saves_nothing(
    client, centre, tickets
):
    with pytest.raises(ApplicationError) as refused:
        services.export_request(
            actor=centre.shift_leader,
            query="",
            file_format="csv",
            now=timezone.now(),
            full_phones=True,
        )
    client.force_login(centre.shift_leader)
    page = client.get("/tickets/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert refused.value.code == "forbidden"
    assert not Export.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT_REQUESTED).exists()
    assert 'name="full_phones"' not in page
    assert 'name="file_format"' in page


def test_the_supervisor_is_offered_full_phones_on_the_list(client, centre, tickets):
    client.force_login(centre.supervisor)

    page = client.get("/tickets/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'name="full_phones"' in page
    assert '<label for="export-full-phones">' in page


def test_a_report_download_is_logged(client, centre, clock):
    report = services.report_generate(
        kind=Report.Kind.DAILY, period=day_of(timezone.now()), now=timezone.now()
    )
    client.force_login(centre.shift_leader)

    download = client.get(f"/reports/{report.pk}/export.csv")

    assert download.status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.FILE_DOWNLOADED)
    assert (entry.actor, entry.data) == (
        centre.shift_leader,
        {"full_phones": False, "report": report.pk},
    )
