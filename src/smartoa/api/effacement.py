"""``GET /api/v1/effacement``: documented here; in production it is answered by the lean path in hotpath.py
before Django is reached. This Django view gives the same answer through the same authentication."""

from django.http import HttpResponse
from ninja import Router

from smartoa.api.hotpath import NOTHING_PUBLISHED

router = Router(tags=["effacement"])


@router.get(
    "/effacement",
    summary="La dernière consigne publiée du contrat / the contract's latest consigne",
    response={200: dict, 401: dict, 403: dict, 404: dict},
)
def effacement(request):
    """The latest published consigne (greatest application_date, newest version), in the seed's format."""
    document = request.auth.latest_document
    if document is None:
        raise NOTHING_PUBLISHED
    return HttpResponse(document.encode(), content_type="application/json", headers={"Cache-Control": "no-store"})
