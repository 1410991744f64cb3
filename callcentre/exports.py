"""Files people download: CSV and xlsx written row by row, safe to open in a spreadsheet."""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils.functional import Promise
from openpyxl import Workbook

# A cell that starts like one of these is read by a spreadsheet as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value) -> object:
    """Return ``value`` as a spreadsheet shows it and never runs it: text that starts like a
    formula gets a leading apostrophe (a phone number "+86…" stays readable as text)."""
    if isinstance(value, Promise):
        value = str(value)  # a translated label
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return f"'{value}"
    return value


@dataclass
class Sheet:
    title: str
    headings: list[str]
    rows: Iterable[list]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(sheets: list[Sheet]) -> Iterator[str]:
    """Return the lines of ``sheets`` as one CSV, each after its title."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that spreadsheet programs read the Chinese as UTF-8
    for number, sheet in enumerate(sheets):
        if number:
            yield writer.writerow([])
        if len(sheets) > 1:
            yield writer.writerow([safe_cell(sheet.title)])
        yield writer.writerow([safe_cell(heading) for heading in sheet.headings])
        for row in sheet.rows:
            yield writer.writerow([safe_cell(value) for value in row])


def csv_response(filename: str, sheets: list[Sheet]) -> StreamingHttpResponse:
    """Stream ``sheets`` as one CSV: memory stays flat however long."""
    response = StreamingHttpResponse(csv_lines(sheets), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_write(target, sheets: list[Sheet]) -> None:
    """Write ``sheets`` to the file ``target`` as xlsx, row by row (openpyxl's write-only
    mode keeps no rows in memory)."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title[:31])
        worksheet.append([safe_cell(heading) for heading in sheet.headings])
        for row in sheet.rows:
            worksheet.append([safe_cell(value) for value in row])
    workbook.save(target)


def csv_write(target, sheets: list[Sheet]) -> None:
    """Write ``sheets`` to the text file ``target`` as one CSV, as ``csv_response`` does."""
    for line in csv_lines(sheets):
        target.write(line)


def xlsx_response(filename: str, sheets: list[Sheet]) -> FileResponse:
    """Write ``sheets`` to an xlsx file on disk, and send it from there."""
    spooled = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    xlsx_write(spooled, sheets)
    spooled.seek(0)
    return FileResponse(
        spooled,
        as_attachment=True,
        filename=filename,
        content_type=XLSX_TYPE,
    )
