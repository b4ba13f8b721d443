"""``/dev/mail``: the mail written to ``DATA_DIR/mail`` when no SMTP server is set (development only), so
reset and invitation links can be followed locally. Outside development every route here is 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scribetree.core import mail
from scribetree.core.config import settings
from scribetree.core.errors import NotFound
from scribetree.core.http import UnitOfWorkRoute
from scribetree.web.pages import render

router = APIRouter(route_class=UnitOfWorkRoute)


def _development_only() -> None:
    if not settings.is_development:
        raise NotFound()


@router.get("/dev/mail", include_in_schema=False)
async def mailbox(request: Request) -> Response:
    _development_only()
    return await render(request, "dev/mail_list.html", ctx=None, title="Development mailbox",
                        messages=mail.list_dev_mail())


@router.get("/dev/mail/{name}", include_in_schema=False)
async def mail_message(request: Request, name: str) -> Response:
    _development_only()
    message = mail.read_dev_mail(name)
    if message is None:
        raise NotFound("No such message in the development mailbox.")
    return await render(request, "dev/mail_view.html", ctx=None, title=message["subject"], message=message)
