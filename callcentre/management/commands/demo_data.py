from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from callcentre.demo import DEMO_PASSWORD, DemoBuilder, demo_logins


class Command(BaseCommand):
    help = "Load the demo centre: districts, crews, users of every role and days of tickets."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3, help="days of history (default 3)")
        parser.add_argument("--per-day", type=int, default=40, help="tickets a day (default 40)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed")

    def handle(self, *args, days: int, per_day: int, seed: int, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "Demo users have known passwords; set DEMO_MODE=1 to load them, and never on a "
                "real centre's system."
            )
        builder = DemoBuilder(seed=seed, days=days, per_day=per_day, now=timezone.now())
        builder.build_configuration()
        made = builder.build_history()
        if options["verbosity"] < 1:
            return
        if made:
            self.stdout.write(f"Replayed {made} tickets over {days} days.")
        else:
            self.stdout.write("Tickets already present; history left as it is.")
        self.stdout.write(f"Demo sign-ins (password {DEMO_PASSWORD}):")
        for role, username in demo_logins():
            self.stdout.write(f"  {role}: {username}")
