import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from svc.jobs import refresh_connections, run_pending


class Command(BaseCommand):
    """Clean pollers: Django's connection is refreshed each round."""

    def handle(self, *args, **options):
        if options.get("cursor"):
            self.with_cursor()
        while True:
            refresh_connections()
            run_pending()
            time.sleep(10)

    def with_cursor(self):
        while True:
            close_old_connections()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            time.sleep(5)
