"""The container files pin their images and expose services on loopback only."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_images_are_pinned_and_bound_to_loopback():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        image = service["image"]
        assert re.search(r":\d[\w.-]*$", image), f"{name}: image '{image}' has no pinned tag"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: port {port} is not loopback-only"
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_dockerfiles_pin_their_base_images():
    for dockerfile in ROOT.glob("docker/*/Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("FROM "):
                image = line.split()[1]
                assert ":" in image and not image.endswith(":latest"), f"{dockerfile}: {line}"
