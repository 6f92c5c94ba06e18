"""Only what pyproject.toml cannot say: the top-level ``resources/`` folder (fonts, reference
data, icons) ships inside the wheel as the ``hms_resources`` package. Everything else about
the distribution (metadata, dependencies, package data) is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["hms_server*", "hms_desktop*", "hms_contract*"]),
        "hms_resources",
    ],
    package_dir={"hms_resources": "resources"},
)
