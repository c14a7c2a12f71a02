"""Redis clients that are fine in a waiting loop (or not in one)."""
import time

import redis
import redis.asyncio as aioredis


def with_health_check(url):
    r = redis.Redis.from_url(url, health_check_interval=30)
    for message in r.pubsub().listen():
        print(message)


def pool_with_health_check():
    pool = redis.ConnectionPool(host="cache", health_check_interval=25)
    r = redis.Redis(connection_pool=pool)
    while True:
        print(r.blpop("jobs", timeout=0))


def per_iteration():
    while True:
        r = redis.Redis(host="cache")
        print(r.get("value"))
        r.close()
        time.sleep(60)


def bounded(keys):
    r = redis.Redis(host="cache")
    for key in keys:
        r.delete(key)
        time.sleep(0.1)


def counted():
    r = redis.Redis(host="cache")
    for _ in range(10):
        r.incr("counter")
        time.sleep(1)


def no_wait():
    r = redis.Redis(host="cache")
    while True:
        if not r.lpop("work"):
            break


def kwargs_from_settings(options):
    r = redis.Redis(**options)
    while True:
        r.blpop("jobs", timeout=0)


def not_used_in_loop():
    r = redis.Redis(host="cache")
    r.set("started", 1)
    while True:
        time.sleep(60)


def reconnects():
    r = redis.Redis(host="cache")
    while True:
        try:
            print(r.brpop("jobs", timeout=0))
        except redis.ConnectionError:
            r = redis.Redis(host="cache")


class Listener:
    def __init__(self):
        self.redis = redis.Redis(host="cache", health_check_interval=30)

    def run(self):
        while True:
            print(self.redis.brpop("q", timeout=0))


async def async_checked(url):
    r = aioredis.from_url(url, health_check_interval=30)
    pubsub = r.pubsub()
    await pubsub.subscribe("events")
    async for message in pubsub.listen():
        print(message)
