import time

from django.core.management.base import BaseCommand

from svc.jobs import run_pending


class Command(BaseCommand):
    """The loop queries through a project function in another module."""

    def handle(self, *args, **options):
        while True:
            run_pending()  # expect: TXL403
            time.sleep(10)
