"""``GET /api/v1/effacement``: documented here; in production it is answered by the lean path in hotpath.py
before Django is reached. This Django view gives the same answer through the same authentication."""

from django.http import HttpResponse
from ninja import Router

from smartoa.api.schemas import AUTH_ERRORS, NOTHING_PUBLISHED_MESSAGE, ConsigneOut, ErrorOut
from smartoa.domain.errors import NotFound

router = Router(tags=["effacement"])


@router.get(
    "/effacement",
    summary="La dernière consigne publiée du contrat / the contract's latest consigne",
    response={200: ConsigneOut, 404: ErrorOut, **AUTH_ERRORS},
)
def effacement(request):
    """The latest published consigne (greatest application_date, newest version), in the seed's format:
    ``value`` 1.0 in a period means stop production (effacement), 0.0 no stop. The stored document is returned
    byte for byte."""
    document = request.auth.latest_document
    if document is None:
        raise NotFound(NOTHING_PUBLISHED_MESSAGE)
    return HttpResponse(document.encode(), content_type="application/json", headers={"Cache-Control": "no-store"})
