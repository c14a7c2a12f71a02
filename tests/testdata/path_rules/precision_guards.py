"""Issue 8, item 6: precision that more recall needs (contract §1, §4, §9, §13)."""
import os
import sqlite3
import sys

import psycopg2.extensions
import sqlalchemy.engine
from sqlalchemy import create_engine

engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


# the same unchanged condition goes the same way twice
def correlated(conn: "psycopg2.extensions.connection", cursor=None):
    if cursor is None:
        cur = conn.cursor()
    else:
        cur = cursor
    try:
        cur.execute("SELECT 1")
    finally:
        if cursor is None:
            cur.close()


def correlated_leak(conn: "psycopg2.extensions.connection", cursor=None):
    if cursor is None:
        cur = conn.cursor()  # expect: TXL201, TXL202
    else:
        cur = cursor
    cur.execute("SELECT 1")
    if cursor is not None:
        cur.close()


# a flag bound once to the condition
def flag(conn: "psycopg2.extensions.connection", cursor=None):
    own = cursor is None
    cur = conn.cursor() if own else cursor
    try:
        cur.execute("SELECT 1")
    finally:
        if own:
            cur.close()


def flag_constant(conn: "psycopg2.extensions.connection", cur=None):
    owned = False
    if cur is None:
        cur = conn.cursor()
        owned = True
    try:
        cur.execute("SELECT 1")
    finally:
        if owned:
            cur.close()


def condition_rebound(conn: "psycopg2.extensions.connection", cursor=None):
    if cursor is None:
        cur = conn.cursor()  # expect: TXL201, TXL202
    else:
        cur = cursor
    cursor = cur
    cur.execute("SELECT 1")
    if cursor is None:
        cur.close()


# a tuple target rebound in a loop after the old values were released
def loop_tuple(paths):
    for p in paths:
        conn, cur = open_pair(p)  # expect: TXL202
        cur.execute("SELECT 1")
        cur.close()
        conn.close()


def open_pair(p):
    c = sqlite3.connect(p)
    return c, c.cursor()


# the end of the process leaks nothing (contract §9)
def exits(path, mode):
    conn = sqlite3.connect(path)
    if mode == 1:
        sys.exit(1)
    if mode == 2:
        os._exit(2)
    if mode == 3:
        raise SystemExit(3)
    conn.close()


def no_exit(path, mode):
    conn = sqlite3.connect(path)  # expect: TXL201
    if mode == 1:
        return
    conn.close()


# a chained close
def chained():
    engine.connect().close()


def chained_leak():
    engine.connect().exec_driver_sql("SELECT 1")  # expect: TXL201


class Unit:
    def __init__(self, conn: sqlalchemy.engine.Connection):
        self.conn = conn

    # a method whose whole job is to begin: the caller ends it
    def begin(self):
        self.conn.begin()
        return self

    def rollback(self):
        self.conn.rollback()

    # a project method that ends the transaction
    def run(self):
        self.conn.begin()
        try:
            self.conn.exec_driver_sql("UPDATE t SET n = n + 1")
        except Exception:
            self.rollback()
            raise
        self.conn.commit()

    def run_leaky(self, skip):
        self.conn.begin()  # expect: TXL101
        if skip:
            return
        try:
            self.conn.exec_driver_sql("UPDATE t SET n = n + 1")
        except Exception:
            self.rollback()
            raise
        self.conn.commit()


class Database:
    """A begin() whose transaction lives on the object's connection (peewee's MySQLDatabase)."""

    def __init__(self, dsn: str):
        self.conn = psycopg2.connect(dsn)

    def cursor(self) -> "psycopg2.extensions.cursor":
        return self.conn.cursor()

    def begin(self):
        curs = self.cursor()  # expect: TXL201, TXL202
        curs.execute("BEGIN")

    def close(self):
        self.conn.close()


class AutocommitConnection(sqlite3.Connection):
    # begins through a cursor of its own, chained (Django's sqlite3 backend): the caller ends it;
    # the cursor itself is a temporary never closed
    def start_transaction(self, mode=None):
        if mode is None:
            self.cursor().execute("BEGIN")  # expect: TXL201
        else:
            self.cursor().execute(f"BEGIN {mode}")  # expect: TXL201

    def start_and_forget(self, mode=None):
        cur = self.cursor()  # expect: TXL201, TXL202
        cur.execute("BEGIN")
