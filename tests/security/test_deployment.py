"""The deployment's safety settings, held by tests: Django's deploy checks clean with the
production environment, the security headers on every answer, forged Host headers refused."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_the_deploy_checks_are_clean_with_production_settings(tmp_path):
    environment = {
        **os.environ,
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "repair.example.cn",
        "SECURE_SSL_REDIRECT": "1",
        "VAR_DIR": str(tmp_path),
    }
    environment.pop("SECURE_COOKIES", None)
    environment.pop("SECURE_HSTS_SECONDS", None)
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


@pytest.mark.django_db
def test_every_answer_carries_the_security_headers(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/notices/", secure=True)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_a_forged_host_header_is_refused(settings):
    settings.ALLOWED_HOSTS = ["repair.example.cn"]
    assert Client(HTTP_HOST="repair.example.cn").get("/notices/").status_code == 200
    assert Client(HTTP_HOST="evil.example.com").get("/notices/").status_code == 400
    assert Client(HTTP_HOST="evil.example.com").get("/api/v1/faq/").status_code == 400
