"""An export written by a real Celery worker on Redis, to the file the page offers."""

import io
import uuid
from unittest import mock

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reports import services
from reports.models import Export
from reports.tasks import export_run
from tests.workers import queue_length, wait_for
from tickets.choices import State

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("workers")]


def test_a_worker_writes_the_export_once_and_stores_its_file(
    centre, make_ticket, start_worker, settings, tmp_path, monkeypatch
):
    # The worker stores the file where this test reads it.
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    for _ in range(7):
        make_ticket(State.NEW)
    with mock.patch("reports.tasks.export_run.delay"):  # sent below, to this test's queue
        export = services.export_request(
            actor=centre.supervisor, query="", file_format="xlsx", now=timezone.now()
        )
    queue = f"exports-test-{uuid.uuid4().hex}"
    worker = start_worker(queue, "exporter")
    try:
        export_run.apply_async(args=[export.pk], queue=queue)

        def finished() -> bool:
            export.refresh_from_db()
            return export.state == Export.State.DONE

        wait_for(finished)
        wait_for(lambda: queue_length(queue) == 0)
    finally:
        worker.stop()

    assert (export.rows_total, export.rows_done) == (7, 7)
    with export.file.open("rb") as file:
        rows = list(load_workbook(io.BytesIO(file.read()), read_only=True).worksheets[0].values)
    assert len(rows) == 8
    # Sent twice (beat resending it, say), it is written once.
    assert services.export_run(export_id=export.pk, now=timezone.now()) is None
