import psycopg2

_conn = psycopg2.connect("dbname=app")  # expect: TXL401


def shared_connection():
    return _conn


def new_connection():
    return psycopg2.connect("dbname=app")
