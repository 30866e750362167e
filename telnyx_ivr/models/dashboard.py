"""The dashboard's entry in the admin: a proxy of the call log with no rows of its own.

Being a model puts the Dashboard in the app's section of the admin index and gives it the
admin's own permission ("Can view dashboard"), so who may read the figures is set where
every other admin right is."""

from .calls import Call


class Dashboard(Call):
    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"
        default_permissions = ("view",)
