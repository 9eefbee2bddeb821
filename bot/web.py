"""The ASGI app: the Telegram webhook now; WhatsApp, the Open311 API and the staff pages join it later.

The webhook answers Telegram only after the update is committed: if handling fails, Telegram gets a 500 and
delivers the update again, and the inbound-event record makes sure a second delivery is not counted twice.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from contextlib import asynccontextmanager
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot import open311
from bot.service import build
from bot.settings import Settings
from bot.telegram import TelegramChannel, builder

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from PIKIR_SECRET so a deployment needs no extra secret."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return hmac.new(settings.secret, b"telegram-webhook", hashlib.sha256).hexdigest()


def webhook_path(settings: Settings) -> str:
    return urlparse(settings.telegram_webhook_url or "").path or DEFAULT_WEBHOOK_PATH


def create_app(settings: Settings) -> Starlette:
    state: dict = {}
    secret = webhook_secret(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        state["pikir"] = app.state.pikir = pikir = await build(settings)
        telegram = None
        if settings.telegram_token:
            telegram = builder(settings).updater(None).build()
            await telegram.initialize()
            state["telegram"] = telegram
            state["channel"] = channel = TelegramChannel(pikir.service, pikir.files, settings.default_language)
            await channel.set_commands(telegram.bot)
            pikir.notifier.add("telegram", channel.sender(telegram.bot))  # status changes pushed to citizens
            pikir.notifier.start()
            if settings.telegram_webhook_url:
                await telegram.bot.set_webhook(
                    settings.telegram_webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
                )
        try:
            yield
        finally:
            if telegram is not None:
                await pikir.notifier.stop()  # before the bot it sends through goes away
                await telegram.shutdown()
            await pikir.close()

    async def telegram_webhook(request: Request) -> Response:
        supplied = request.headers.get(SECRET_HEADER, "")
        if "channel" not in state or not hmac.compare_digest(supplied.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Response(status_code=400)
        bot = state["telegram"].bot
        update = Update.de_json(data, bot)
        await state["channel"].on_update(update, bot)  # raises (-> 500, redelivery) if nothing was committed
        return Response(status_code=200)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route(webhook_path(settings), telegram_webhook, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    routes += open311.routes()  # the Open311 GeoReport v2 API under /open311/v2
    return Starlette(routes=routes, lifespan=lifespan)
