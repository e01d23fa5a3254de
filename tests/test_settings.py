"""Settings: where the databases are by default, and what production refuses."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from settings import APP_DATABASE, SIM_DATABASE, Settings, UnsafeForProduction
from workflows.codec import DEV_CODEC_KEYS


def test_by_default_the_app_uses_make_devs_local_postgres_and_the_simulators_a_database_beside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHEBAO_DEV_POSTGRES_PORT", raising=False)
    settings = Settings()
    assert settings.resolved_database_url == (
        f"postgresql+asyncpg://postgres@127.0.0.1:54329/{APP_DATABASE}"
    )
    assert settings.resolved_sim_database_url == (
        f"postgresql+asyncpg://postgres@127.0.0.1:54329/{SIM_DATABASE}"
    )


def test_the_simulators_follow_the_app_to_its_server_unless_told_otherwise() -> None:
    url = "postgresql+asyncpg://shebao:secret@db.internal:5432/shebao"
    assert Settings(database_url=url).resolved_sim_database_url == (
        f"postgresql+asyncpg://shebao:secret@db.internal:5432/{SIM_DATABASE}"
    )
    own = "postgresql+asyncpg://sim@sim.internal/sim"
    assert Settings(database_url=url, sim_database_url=own).resolved_sim_database_url == own


def _safe_production(**changes: Any) -> Settings:
    """Production settings with nothing to refuse, but for the changes (a test's one problem).

    The posting and treasury systems have only simulators today: this pretends they are real
    the only way settings can, by building the model around the check of their names.
    """
    safe: dict[str, Any] = {
        "env": "production",
        "database_url": "postgresql+asyncpg://shebao@db.internal/shebao",
        "simulators": False,
        "payment_channel": "wechatpay",
        "wechatpay_apiv3_key": "k" * 32,
        "operator_token": "o" * 40,
        "payer_ref_key": "r" * 40,
        "wechat_app_secret": "w" * 32,
        "codec_keys": f"p1:{base64.b64encode(os.urandom(32)).decode()}",
        "forwarded_allow_ips": "172.30.0.10",
    }
    settings = Settings(**{**safe, **changes})
    real = {"posting_system": "real", "treasury_system": "real"}
    return settings.model_copy(update={k: v for k, v in real.items() if k not in changes})


def test_safe_production_settings_have_no_problem() -> None:
    assert _safe_production().production_problems() == []
    _safe_production().require_production_safe()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"database_url": ""}, "SHEBAO_DATABASE_URL"),
        ({"payment_channel": "simulator"}, "SHEBAO_PAYMENT_CHANNEL"),
        ({"posting_system": "simulator"}, "SHEBAO_POSTING_SYSTEM"),
        ({"treasury_system": "simulator"}, "SHEBAO_TREASURY_SYSTEM"),
        ({"simulators": True}, "SHEBAO_SIMULATORS"),
        ({"operator_token": "dev-operator-token"}, "SHEBAO_OPERATOR_TOKEN is the dev default"),
        ({"operator_token": "x"}, "SHEBAO_OPERATOR_TOKEN is shorter than 32 bytes"),
        ({"operator_token": "dev-" + "x" * 40}, "SHEBAO_OPERATOR_TOKEN is the dev default"),
        ({"payer_ref_key": "dev-payer-ref-key-change-me"}, "SHEBAO_PAYER_REF_KEY is the dev"),
        ({"payer_ref_key": "short"}, "SHEBAO_PAYER_REF_KEY is shorter than 32 bytes"),
        ({"wechat_app_secret": "dev-wechat-app-secret"}, "SHEBAO_WECHAT_APP_SECRET is the dev"),
        ({"wechat_app_secret": "short"}, "SHEBAO_WECHAT_APP_SECRET is shorter than 32 bytes"),
        ({"codec_keys": ""}, "SHEBAO_CODEC_KEYS is not set"),
        ({"codec_keys": DEV_CODEC_KEYS}, "SHEBAO_CODEC_KEYS holds the dev key"),
        ({"codec_keys": "p1:c2hvcnQ="}, "SHEBAO_CODEC_KEYS is malformed"),
        ({"codec_trust_ui_origin": True}, "SHEBAO_CODEC_TRUST_UI_ORIGIN"),
        ({"captcha_bypass": "1234"}, "SHEBAO_CAPTCHA_BYPASS"),
        ({"forwarded_allow_ips": "*"}, "SHEBAO_FORWARDED_ALLOW_IPS is *"),
        ({"forwarded_allow_ips": "172.30.0.10, *"}, "SHEBAO_FORWARDED_ALLOW_IPS is *"),
        ({"wechatpay_apiv3_key": "short"}, "SHEBAO_WECHATPAY_APIV3_KEY"),
        ({"wechatpay_gateway_url": "http://127.0.0.1:8010"}, "SHEBAO_WECHATPAY_GATEWAY_URL"),
        (
            {"temporal_client_env": {"TEMPORAL_API_KEY": "key", "TEMPORAL_TLS": "false"}},
            "TEMPORAL_API_KEY with TLS disabled",
        ),
        (
            {"temporal_client_env": {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/etc/temporal/c.pem"}},
            "Temporal TLS has a client certificate or key without the other",
        ),
        (
            {"temporal_address": "a:7233", "temporal_client_env": {"TEMPORAL_ADDRESS": "b:7233"}},
            "SHEBAO_TEMPORAL_ADDRESS and envconfig's TEMPORAL_ADDRESS disagree",
        ),
        (
            {"temporal_namespace": "a", "temporal_client_env": {"TEMPORAL_NAMESPACE": "b"}},
            "SHEBAO_TEMPORAL_NAMESPACE and envconfig's TEMPORAL_NAMESPACE disagree",
        ),
    ],
)
def test_production_refuses_each_unsafe_value(changes: dict[str, Any], named: str) -> None:
    problems = _safe_production(**changes).production_problems()
    assert len(problems) == 1 and problems[0].startswith(named), problems


def test_production_lists_every_problem_at_once_and_the_default_settings_have_many() -> None:
    with pytest.raises(UnsafeForProduction) as refused:
        Settings(env="production").require_production_safe()
    text = str(refused.value)
    for name in (
        "SHEBAO_DATABASE_URL",
        "SHEBAO_PAYMENT_CHANNEL",
        "SHEBAO_POSTING_SYSTEM",
        "SHEBAO_TREASURY_SYSTEM",
        "SHEBAO_SIMULATORS",
        "SHEBAO_OPERATOR_TOKEN",
        "SHEBAO_PAYER_REF_KEY",
        "SHEBAO_WECHAT_APP_SECRET",
        "SHEBAO_CODEC_KEYS",
    ):
        assert name in text
    assert len(refused.value.problems) == 9


def test_the_api_and_the_worker_refuse_to_start_on_unsafe_production_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    import api.__main__ as api_main
    import worker
    from api.app import create_app

    monkeypatch.setenv("SHEBAO_ENV", "production")
    monkeypatch.setenv("SHEBAO_SIMULATORS", "true")
    with pytest.raises(UnsafeForProduction):
        create_app(Settings())
    with pytest.raises(UnsafeForProduction):
        api_main.main()
    with pytest.raises(UnsafeForProduction):
        asyncio.run(worker.main())


def test_outside_production_nothing_is_refused() -> None:
    assert Settings(env="dev").production_problems() == []


CLOUD = {
    "TEMPORAL_ADDRESS": "shebao.a1b2c.tmprl.cloud:7233",
    "TEMPORAL_NAMESPACE": "shebao.a1b2c",
    "TEMPORAL_API_KEY": "cloud-api-key",
}


def test_temporal_cloud_through_envconfig_is_safe_and_connects_with_tls_and_the_key() -> None:
    settings = _safe_production(temporal_client_env=CLOUD)
    assert settings.production_problems() == []
    assert settings.temporal_address == CLOUD["TEMPORAL_ADDRESS"]
    assert settings.temporal_namespace == CLOUD["TEMPORAL_NAMESPACE"]
    assert settings.temporal_connect_config() == {
        "target_host": CLOUD["TEMPORAL_ADDRESS"],
        "namespace": CLOUD["TEMPORAL_NAMESPACE"],
        "api_key": CLOUD["TEMPORAL_API_KEY"],
        "tls": True,
    }


def test_shebao_temporal_settings_still_work_and_win_when_envconfig_agrees_or_is_silent() -> None:
    alone = Settings(temporal_address="t:7233", temporal_namespace="n", temporal_client_env={})
    assert alone.temporal_connect_config() == {"target_host": "t:7233", "namespace": "n"}
    both = Settings(
        temporal_address="t:7233",
        temporal_client_env={"TEMPORAL_ADDRESS": "t:7233", "TEMPORAL_TLS": "true"},
    )
    assert both.temporal_connect_config()["tls"] is not False
    defaults = Settings(temporal_client_env={})
    assert defaults.temporal_connect_config() == {
        "target_host": "127.0.0.1:7233",
        "namespace": "default",
    }


def test_a_profile_file_names_the_cluster(tmp_path: Any) -> None:
    profile = tmp_path / "temporal.toml"
    profile.write_text(
        '[profile.prod]\naddress = "frontend.temporal.internal:7233"\nnamespace = "shebao"\n'
        '[profile.prod.tls]\nserver_name = "frontend.temporal.internal"\n'
    )
    env = {"TEMPORAL_CONFIG_FILE": str(profile), "TEMPORAL_PROFILE": "prod"}
    settings = _safe_production(temporal_client_env=env)
    assert settings.production_problems() == []
    config = settings.temporal_connect_config()
    assert config["target_host"] == "frontend.temporal.internal:7233"
    assert config["namespace"] == settings.temporal_namespace == "shebao"
    assert config["tls"] is not False
