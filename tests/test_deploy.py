"""The deployment recipe (deploy/) says what the code reads: compose names the services,
the apps point NP_RAY_ADDRESS at the head's client port, and the proxy keeps a browser on
one replica with the websocket upgraded. (No docker here: the files are read, not run.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from engine import remote, trainers

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_has_a_head_workers_a_gpu_worker_apps_and_a_proxy() -> None:
    services = compose()["services"]
    assert {"ray-head", "ray-worker", "ray-gpu-worker", "app", "proxy"} <= set(services)
    head = services["ray-head"]["command"]
    assert "--head" in head and "--ray-client-server-port=10001" in head
    for name in ("ray-worker", "ray-gpu-worker"):
        assert "--address=ray-head:6379" in services[name]["command"]
    gpu = services["ray-gpu-worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["count"] == 1
    assert services["app"]["deploy"]["replicas"] > 1


def test_the_apps_name_the_cluster_with_the_variable_the_code_reads() -> None:
    env = compose()["services"]["app"]["environment"]
    assert trainers.ADDRESS_ENV == remote.ADDRESS_ENV == "NP_RAY_ADDRESS"
    assert env[trainers.ADDRESS_ENV] == "ray://ray-head:10001"
    assert {remote.CPUS_ENV, remote.GPUS_ENV} <= set(env)
    # The same token on every Ray process and client (Ray's token authentication).
    for name, service in compose()["services"].items():
        if name != "proxy":
            assert service["environment"]["RAY_AUTH_MODE"] == "token", name


def test_the_proxy_is_sticky_and_upgrades_websockets() -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"upstream playground \{\s*hash \$np_replica consistent;", conf)
    assert "server app:8501;" in conf and "Set-Cookie \"np_replica=" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_http_version 1.1;" in conf
    assert compose()["services"]["proxy"]["volumes"][0].startswith("./nginx.conf:")


def test_the_image_installs_the_pinned_requirements() -> None:
    docker = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "-r requirements.txt" in docker and "PYTHONPATH=/app" in docker
    pins = (DEPLOY.parent / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^torch==2\.13\.0\b", pins, re.M)
    assert re.search(r"^ray\[client\]==\d+\.\d+\.\d+", pins, re.M)
