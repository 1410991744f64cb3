from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from staffing.roles import Role


class User(AbstractUser):
    """A person who signs in: centre staff, crew members and department staff."""

    phone = PhoneNumberField(_("mobile phone"), blank=True)
    # The telephone extension the switch reports for this agent's seat.
    extension = models.CharField(_("extension"), max_length=16, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """Return the name as its language writes it: 陈调度, but John Smith."""
        if f"{self.first_name}{self.last_name}".isascii():
            return f"{self.first_name} {self.last_name}".strip()
        return f"{self.last_name}{self.first_name}"

    @property
    def display_name(self) -> str:
        return str(self)

    def roles(self) -> list[Role]:
        """Return the user's roles in order of precedence (cached for the request)."""
        if not hasattr(self, "_roles_cache"):
            names = {group.name for group in self.groups.all()}
            self._roles_cache = [role for role in Role if role.value in names]
        return self._roles_cache

    @property
    def primary_role(self) -> Role | None:
        roles = self.roles()
        if roles:
            return roles[0]
        return Role.ADMIN if self.is_superuser else None
