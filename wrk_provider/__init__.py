"""Apache Airflow provider for Wrk: pause, resume, list and wait for Wrkflow launches."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

DEFAULT_UI_URL = "https://app.wrk.com"


def get_provider_info() -> dict[str, Any]:
    """What Airflow's providers manager reads about this package, without importing it."""
    return {
        "package-name": "airflow-provider-wrk",
        "name": "Wrk",
        "description": "Pause, resume, list and wait for [Wrk](https://wrk.com) launches.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Wrk",
                "external-doc-url": "https://wrk.com",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "Wrk", "python-modules": ["wrk_provider.hooks.wrk"]}],
        "operators": [
            {"integration-name": "Wrk", "python-modules": ["wrk_provider.operators.wrk"]}
        ],
        "sensors": [{"integration-name": "Wrk", "python-modules": ["wrk_provider.sensors.wrk"]}],
        "triggers": [{"integration-name": "Wrk", "python-modules": ["wrk_provider.triggers.wrk"]}],
        "extra-links": ["wrk_provider.links.wrk.WrkLaunchLink"],
        "connection-types": [
            {
                "connection-type": "wrk",
                "hook-class-name": "wrk_provider.hooks.wrk.WrkHook",
                "hook-name": "Wrk",
                "conn-fields": _CONN_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "Base URL", "password": "API key"},
                    "placeholders": {
                        "host": "https://account.wrk.com/api/v1",
                        "password": "your Wrk API key",
                        "extra": '{"timeout": 30, "max_retries": 4}',
                    },
                },
            }
        ],
    }


def _field(label: str, kind: str, description: str) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": [kind, "null"]}}


_CONN_FIELDS: dict[str, Any] = {
    "timeout": _field("Timeout (s)", "number", "Seconds to wait for an answer. Default 30."),
    "max_retries": _field(
        "Max retries",
        "integer",
        "Retries on 429, 500, 502, 503, 504 and connection errors. Default 4.",
    ),
    "auth_scheme": _field(
        "Auth scheme", "string", "The word before the key in the Authorization header."
    ),
    "allow_insecure_http": _field(
        "Allow plain http", "boolean", "Allow a plain http Base URL to a non-loopback host."
    ),
    "ui_url": _field(
        "Wrk app URL", "string", f"Where launch links point. Default {DEFAULT_UI_URL}."
    ),
    "max_requests_per_second": _field(
        "Max requests per second", "number", "Request budget shared by waiting triggers."
    ),
}
