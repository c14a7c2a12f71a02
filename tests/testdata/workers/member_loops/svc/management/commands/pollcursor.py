import time

from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    """Polls through a cursor taken once, before the loop."""

    def handle(self, *args, **options):
        with connection.cursor() as cursor:  # expect: TXL403
            while True:
                cursor.execute("SELECT count(*) FROM svc_job WHERE state = 'new'")
                print(cursor.fetchone())
                time.sleep(5)
