"""Not found, in the form whoever asked reads: the API's error body under ``/api/``,
GeoReport v2's error list under ``/open311/`` (XML when the path ends in ``.xml``), the
error page anywhere else."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from callcentre.open311.documents import Document, Open311XMLRenderer


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "message": _("Not found."), "fields": {}}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    if request.path.startswith("/open311/"):
        rows = [{"code": 404, "description": _("Not found.")}]
        if request.path.endswith(".xml"):
            content = Open311XMLRenderer().render(Document("errors", "error", rows))
            return HttpResponse(content, content_type="text/xml; charset=utf-8", status=404)
        return JsonResponse(rows, safe=False, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)
