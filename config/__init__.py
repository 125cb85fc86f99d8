# Loaded with Django so that tasks sent from the web process use Hearth's Celery app.
from config.celery import app as celery_app

__all__ = ["celery_app"]
