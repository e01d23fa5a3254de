"""The FastAPI app factory; the lifespan owns the database, the Temporal client and the adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from adapters.clock import system_clock
from adapters.payments.interface import PaymentNotification
from api.errors import install_error_handlers
from api.middleware.limits import BodyLimitMiddleware
from api.middleware.operations import install_operations
from api.openapi import TAGS, operation_id
from api.pages import routes as pages
from api.routes import captcha as captcha_routes
from api.routes import certificates as certificate_routes
from api.routes import contributions, health, operator, payers, quotes, session
from api.routes import messages as message_routes
from api.routes import payment_notify as payment_notify_routes
from api.routes import reconciliation as reconciliation_routes
from api.routes import records as record_routes
from services.context import AppState
from services.notifications import accept_payment_notification
from services.sessions import sign_outs_heard
from services.temporal_link import TemporalLink
from services.timefmt import shanghai_today
from settings import Settings
from simulators.cashier.backend import SimCashier
from simulators.cashier.routes import cashier_router
from simulators.notifier import Accept, notifier_running
from simulators.wechat.jsbridge import SCRIPT_PATH as JSBRIDGE_SCRIPT
from simulators.wechat.jsbridge import jsbridge_router
from simulators.wechat.oauth import oauth_router
from storage.db import sessions_or_own
from wiring import Simulators, Systems, build_adapters, merchant_public_key


def create_app(
    settings: Settings,
    *,
    client: Client | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    systems: Systems | None = None,
    today: Callable[[], date] | None = None,
) -> FastAPI:
    """The API. What is not passed in is built from settings at start-up and closed at shutdown.

    `today` replaces the Asia/Shanghai calendar date for the payer-side rules (tests).
    In production, unsafe settings (simulated money, dev secrets, …) refuse to build the app.
    """
    settings.require_production_safe()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            sessionmaker = sessions_or_own(sessions, settings.resolved_database_url, stack)
            link = TemporalLink(settings, client)
            await link.connect()
            chosen = systems
            if chosen is None and settings.simulators:
                chosen = await build_adapters(settings, system_clock)
                stack.push_async_callback(chosen.aclose)
            state = AppState(
                settings=settings,
                sessions=sessionmaker,
                temporal=link,
                adapters=chosen.adapters if chosen is not None else None,
                today=today or shanghai_today,
            )
            app.state.shebao = state
            await stack.enter_async_context(sign_outs_heard(state))
            # The stand-ins behind the adapters, for the simulator routes; never a service's.
            app.state.simulators = chosen.simulators if chosen is not None else None
            sim = chosen.simulators.payments if chosen is not None else None
            if settings.simulators and sim is not None:
                await stack.enter_async_context(notifier_running(sim, _accept_in_process(state)))
            yield

    app = FastAPI(
        title="shebao",
        summary="贵州灵活就业人员社保费缴纳",
        version="0.1.0",
        description="The contract is docs/api.md. Every 4xx/5xx body is the `ErrorEnvelope` "
        "(the payment notify route answers WeChat Pay's `{code: FAIL}` of its own refusals).",
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.include_router(health.router)
    app.include_router(session.router)
    app.include_router(payers.router)
    app.include_router(quotes.router)
    app.include_router(contributions.router)
    app.include_router(operator.router)
    app.include_router(reconciliation_routes.router)
    app.include_router(reconciliation_routes.reviews_router)
    app.include_router(record_routes.router)
    app.include_router(payment_notify_routes.router)
    app.include_router(captcha_routes.router)
    app.include_router(certificate_routes.router)
    app.include_router(message_routes.router)
    app.include_router(pages.router)
    if settings.simulators:
        # Stand-ins for WeChat (off in production): not part of the API's document.
        app.include_router(cashier_router(_cashier_of), include_in_schema=False)
        # WeChat itself, played on the API's own URL: 网页授权 (unless the local gateway plays
        # it, settings.resolved_wechat_oauth_base) and the WeixinJSBridge shim of the pages.
        app.include_router(
            oauth_router(settings.wechatpay_appid, settings.wechat_app_secret, "/sim/wechat")
        )
        app.include_router(
            jsbridge_router(
                _cashier_of, lambda: merchant_public_key(settings), settings.wechatpay_appid
            ),
            include_in_schema=False,
        )
        app.state.wechat_shim = JSBRIDGE_SCRIPT
    install_operations(app, settings)
    return app


def _accept_in_process(state: AppState) -> Accept:
    """The in-process simulator's callbacks, handled as the notify route handles WeChat's."""

    async def accept(notification: PaymentNotification) -> bool | None:
        client = await state.temporal.connect()
        if client is None:
            return None
        return await accept_payment_notification(state.sessions, client, notification)

    return accept


def _cashier_of(request: Request) -> SimCashier | None:
    """The simulated cashier's backend of the app this request came to."""
    simulators: Simulators | None = request.app.state.simulators
    return simulators.cashier if simulators is not None else None
