from django.conf import settings
from django.contrib.auth.views import LoginView


class SignInView(LoginView):
    """The sign-in page; on a demo system it lists the demo users of every role."""

    template_name = "callcentre/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.DEMO_MODE:
            from callcentre.demo import DEMO_PASSWORD, demo_logins

            context.update(demo_password=DEMO_PASSWORD, demo_logins=demo_logins())
        return context
