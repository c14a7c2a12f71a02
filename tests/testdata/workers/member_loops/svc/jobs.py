from django import db

from svc.models import Job


def run_pending():
    for job in Job.objects.filter(state="new"):
        job.state = "done"
        job.save()


def refresh_connections():
    db.close_old_connections()
