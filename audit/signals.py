"""Sign-ins and sign-outs reach the audit log from Django's own signals, however they happen
(the sign-in page, the admin's, a test client)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit import services


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _signed_in(sender, request, user, **kwargs) -> None:
    services.audit_signed_in(user=user, address=client_address(request))


def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:  # signing out without a session is nobody's action
        services.audit_signed_out(user=user, address=client_address(request))


def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    services.audit_sign_in_failed(
        username=str(credentials.get("username", "")), address=client_address(request)
    )


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="audit-signed-in")
    user_logged_out.connect(_signed_out, dispatch_uid="audit-signed-out")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
