import os

from celery import Celery

from telnyx_ivr import folder_broker

# The zero-setup broker's URL (settings.py) names a transport kombu must know in every process.
folder_broker.register()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
