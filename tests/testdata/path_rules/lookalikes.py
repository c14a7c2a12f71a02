"""Objects with session/connect/begin/cursor names that are not database resources: all clean."""
import asyncio
import socket
import threading

import aiohttp
import boto3
import httpx
import pygame
import redis
import requests
import tensorflow as tf
import tweepy
from blinker import signal
from kivy.animation import Animation
from PyQt5.QtGui import QImage, QPainter
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

user_saved = signal("user-saved")


# HTTP sessions are not database sessions.
def fetch_profile(user_id):
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    return session.get(f"https://api.example.com/users/{user_id}").json()


async def fetch_many(urls):
    session = aiohttp.ClientSession()
    results = [await (await session.get(u)).text() for u in urls]
    return results


def post_event(payload):
    client = httpx.Client(base_url="https://events.example.com")
    return client.post("/ingest", json=payload).status_code


# AWS and TensorFlow sessions.
def list_buckets(profile):
    session = boto3.session.Session(profile_name=profile)
    return [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]


def run_graph(graph, fetches):
    sess = tf.compat.v1.Session(graph=graph)
    return sess.run(fetches)


def run_legacy_graph(fetches):
    sess = tf.Session()
    return sess.run(fetches)


# Files and locks.
def read_config(path):
    fh = open(path)
    return fh.read()


def guarded_increment(counter):
    lock = threading.Lock()
    lock.acquire()
    counter["n"] += 1


# begin() that is not a transaction: Qt painting, pygame, an editor's undo buffer.
def render_thumbnail(path, size):
    image = QImage(size, size, QImage.Format_ARGB32)
    painter = QPainter()
    painter.begin(image)
    painter.drawText(10, 10, path)
    return image


def draw_hud(screen, font, score):
    screen.blit(font.render(str(score), True, (255, 255, 255)), (8, 8))
    pygame.display.update()


def fade_in(widget):
    anim = Animation(opacity=1, duration=0.3)
    anim.start(widget)
    return anim


class UndoBuffer:
    def __init__(self):
        self.groups = []

    def begin(self, label):
        self.groups.append([label])

    def commit(self):
        return self.groups.pop()


def rename_shapes(buffer: UndoBuffer, shapes, prefix):
    buffer.begin("rename")
    for shape in shapes:
        shape.name = prefix + shape.name


# Cursors and connects that are not database objects.
def recent_tweets(api, query):
    cursor = tweepy.Cursor(api.search_tweets, q=query)
    return [t.text for t in cursor.items(50)]


def wire_signals(handler):
    user_saved.connect(handler)


def probe(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect((host, port))
    return sock.recv(16)


async def open_stream(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"PING\r\n")
    return await reader.readline()


# Lazy objects (§10): Redis clients, engines and sessionmakers are never TXL201.
def cache_get(key, url):
    client = redis.Redis.from_url(url)
    return client.get(key)


def cache_set(key, value):
    client = redis.Redis(host="cache", port=6379, db=0)
    client.set(key, value, ex=300)


def make_session_factory(url):
    engine = create_engine(url, pool_pre_ping=True)
    factory = sessionmaker(bind=engine)
    return factory.kw["bind"].url
