import subprocess

from proj.celery import app

HOUR = 60 * 60


@app.task(time_limit=HOUR, soft_time_limit=HOUR - 60)
def render_report(report_id):
    subprocess.run(["render-report", str(report_id)], check=True)


@app.task(time_limit=30)
def send_ping():
    return "pong"
