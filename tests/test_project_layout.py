"""Every app of the project is named where the tools need it: a new app forgotten in one of these
lists installs without its code (packages), builds a Docker image without its folder, or escapes
import-linter's contracts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def project_apps() -> set[str]:
    return {config.name for config in apps.get_app_configs() if Path(config.path).resolve().parent == ROOT}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_import_linter_checks_every_app():
    assert project_apps() == set(pyproject()["tool"]["importlinter"]["root_packages"])


def test_every_app_is_a_package_of_the_distribution():
    included = {name.rstrip("*") for name in pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert project_apps() <= included


def test_the_docker_image_makes_a_folder_for_every_app():
    line = re.search(r"RUN mkdir -p ([\w ]+) &&", (ROOT / "Dockerfile").read_text())
    assert line is not None
    assert project_apps() <= set(line.group(1).split())
