"""Redis clients and pools kept on self by some method and used by another method's waiting loop."""
import redis

from svc.db import CHECKED_POOL, UNCHECKED_POOL


class EventSubscriber:
    def setup(self, url):
        self._redis = redis.Redis.from_url(url)  # expect: TXL404
        self._pubsub = self._redis.pubsub()
        self._pubsub.subscribe("events")

    def run(self):
        for message in self._pubsub.listen():
            print(message)


class CheckedSubscriber:
    def setup(self, url):
        self._redis = redis.Redis.from_url(url, health_check_interval=30)
        self._pubsub = self._redis.pubsub()

    def run(self):
        for message in self._pubsub.listen():
            print(message)


class JobPopper:
    def __init__(self):
        self.pool = redis.ConnectionPool(host="cache")  # expect: TXL404

    def connect(self):
        self.client = redis.Redis(connection_pool=self.pool)

    def run(self):
        self.connect()
        while True:
            _, job = self.client.brpop("jobs", timeout=0)
            print(job)


class SharedCheckedPool:
    def connect(self):
        self.client = redis.Redis(connection_pool=CHECKED_POOL)

    def run(self):
        self.connect()
        while True:
            print(self.client.brpop("jobs", timeout=0))


class SharedUncheckedPool:
    """The module-level pool is reported where it is created (svc/db.py), not again here."""

    def connect(self):
        self.client = redis.Redis(connection_pool=UNCHECKED_POOL)

    def run(self):
        self.connect()
        while True:
            print(self.client.brpop("jobs", timeout=0))
