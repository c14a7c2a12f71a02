"""Redis clients created in a function and held across a waiting loop without a health check."""
import asyncio
import itertools
import json
import threading
import time

import redis
import redis.asyncio as aioredis
from redis.cluster import RedisCluster


def listen_orders(url):
    r = redis.Redis.from_url(url)  # expect: TXL404
    pubsub = r.pubsub()
    pubsub.subscribe("orders")
    for message in pubsub.listen():
        print(json.loads(message["data"]))


def drain_jobs(url):
    r = redis.from_url(url, decode_responses=True)  # expect: TXL404
    while True:
        _, job = r.brpop("jobs", timeout=0)
        print(job)


def watch_flag(stop: threading.Event):
    r = redis.StrictRedis(host="cache", port=6379)  # expect: TXL404
    while not stop.is_set():
        if r.get("maintenance"):
            print("maintenance on")
        stop.wait(5)


def pooled_consumer():
    pool = redis.ConnectionPool(host="cache", max_connections=4)  # expect: TXL404
    r = redis.Redis(connection_pool=pool)
    while True:
        item = r.blpop(["high", "low"], timeout=0)
        print(item)


async def async_events(url):
    r = aioredis.from_url(url)  # expect: TXL404
    pubsub = r.pubsub()
    await pubsub.subscribe("events")
    while True:
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if msg:
            print(msg)


class Consumer:
    def __init__(self, host):
        self.redis = redis.Redis(host=host, socket_keepalive=True)  # expect: TXL404
        self.running = True

    def run(self):
        while self.running:
            job = self.redis.brpop("queue", timeout=5)
            if job:
                print(job)


def stream_reader():
    cluster = RedisCluster(host="redis-cluster", port=7000)  # expect: TXL404
    last = "$"
    while True:
        for _, entries in cluster.xread({"audit": last}, block=0):
            last = entries[-1][0]


def heartbeat(host):
    r = redis.Redis(host=host)  # expect: TXL404
    for n in itertools.count():
        r.set("worker:heartbeat", n)
        time.sleep(10)


def context_client():
    with redis.Redis(host="cache") as r:  # expect: TXL404
        while True:
            r.blpop("mail", timeout=0)


def blocking_pool():
    pool = redis.BlockingConnectionPool(host="cache", timeout=20)  # expect: TXL404
    client = redis.StrictRedis(connection_pool=pool)
    while True:
        time.sleep(30)
        client.incr("ticks")


async def async_queue():
    r = aioredis.Redis(host="cache")  # expect: TXL404
    while True:
        await asyncio.sleep(5)
        await r.lpush("ticks", 1)
