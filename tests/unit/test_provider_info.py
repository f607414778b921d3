"""What Airflow reads about the provider, and the hook's connection form."""

from __future__ import annotations

import importlib
import json
from importlib.metadata import entry_points

from wrk_provider import __version__, get_provider_info
from wrk_provider.hooks.wrk import WrkHook


def test_provider_info_keys() -> None:
    info = get_provider_info()

    assert {"package-name", "name", "description", "versions", "connection-types"} <= set(info)
    assert {"integrations", "hooks"} <= set(info)
    assert info["package-name"] == "airflow-provider-wrk"
    assert info["name"] == "Wrk"
    assert info["versions"] == [__version__]
    assert info["hooks"] == [
        {"integration-name": "Wrk", "python-modules": ["wrk_provider.hooks.wrk"]}
    ]
    assert json.loads(json.dumps(info)) == info


def test_connection_type_points_at_the_hook() -> None:
    [connection_type] = get_provider_info()["connection-types"]

    assert connection_type["connection-type"] == "wrk" == WrkHook.conn_type
    assert connection_type["hook-name"] == WrkHook.hook_name == "Wrk"
    module, _, name = connection_type["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is WrkHook


def test_connection_fields() -> None:
    [connection_type] = get_provider_info()["connection-types"]
    fields = connection_type["conn-fields"]

    assert {"timeout", "max_retries", "auth_scheme", "allow_insecure_http"} <= set(fields)
    for spec in fields.values():
        assert spec["label"] and spec["description"]
        assert "null" in spec["schema"]["type"]
    assert fields["allow_insecure_http"]["schema"]["type"] == ["boolean", "null"]
    assert fields["max_retries"]["schema"]["type"] == ["integer", "null"]
    assert fields["timeout"]["schema"]["type"] == ["number", "null"]


def test_registered_for_airflow() -> None:
    found = [
        point
        for point in entry_points(group="apache_airflow_provider")
        if point.value == "wrk_provider:get_provider_info"
    ]

    assert len(found) == 1
    assert found[0].load() is get_provider_info


def test_hook_identity() -> None:
    assert WrkHook.conn_name_attr == "wrk_conn_id"
    assert WrkHook.default_conn_name == "wrk_default"


def test_ui_field_behaviour() -> None:
    behaviour = WrkHook.get_ui_field_behaviour()

    assert set(behaviour) == {"hidden_fields", "relabeling", "placeholders"}
    assert set(behaviour["hidden_fields"]) == {"schema", "port", "login"}
    assert behaviour["relabeling"] == {"host": "Base URL", "password": "API key"}
    assert behaviour["placeholders"]["host"] == "https://account.wrk.com/api/v1"
    json.loads(behaviour["placeholders"]["extra"])


def test_connection_form_widgets() -> None:
    widgets = WrkHook.get_connection_form_widgets()
    fields = get_provider_info()["connection-types"][0]["conn-fields"]

    try:
        import flask_appbuilder  # noqa: F401
    except ImportError:
        assert widgets == {}
    else:
        assert set(widgets) == set(fields)


def test_providers_manager_reads_the_form() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()

    assert manager.field_behaviours["wrk"]["relabeling"]["password"] == "API key"
    assert manager.field_behaviours["wrk"]["hidden_fields"] == ["schema", "port", "login"]
