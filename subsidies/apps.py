from django.apps import AppConfig


class SubsidiesConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'subsidies'
