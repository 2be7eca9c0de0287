"""Entry point: `flask --app app run`, gunicorn `app:app`, celery `-A app.celery`."""

from koopboard import create_app

app = create_app()
celery = app.extensions["celery"]
