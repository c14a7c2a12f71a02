"""THE table: which calls create, begin, end, release or close what.

Library knowledge lives here as data and nowhere else; the engine (names, cfg, dataflow) is
generic and the rules read this table.  Users extend it from config (``closers``,
``task-decorators``, ``[tool.txlint.resources]``).

Terms
-----
*kind*      what an object is (``sa.session``, ``dbapi.connection``, ``redis.client`` ...).
*factory*   a qualified callable whose call result has a kind (``sqlite3.connect`` -> connection).
*object*    a qualified name that *is* an object of a kind without a call (``django.db.connection``).
*ref*       see :mod:`txlint.names`: ``sqlalchemy.orm.sessionmaker()()`` is a session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

# categories a rule can ask about
ENGINE = "engine"                  # lazy pool of connections (create_engine)
SESSION_FACTORY = "session-factory"
SESSION = "session"                # ORM session: owns a connection while in a transaction
SCOPED_REGISTRY = "scoped-registry"  # scoped_session / Flask-SQLAlchemy db.session
EXTENSION = "extension"            # Flask-SQLAlchemy SQLAlchemy()
CONNECTION = "connection"          # holds a server connection until closed
CURSOR = "cursor"
POOL = "pool"                      # hands out connections (getconn/acquire)
TRANSACTION = "transaction"
REDIS = "redis"                    # redis client or pool (lazy)
DATABASE = "database"              # peewee Database: lazy until .connect()
CELERY_APP = "celery-app"
OTHER = "other"

#: first character of a ref that names a kind rather than a library object (see kind_ref)
KIND_REF = "~"

# what leaving a `with` block does to the object the context manager yields
EXIT_NONE = "none"
EXIT_CLOSE = "close"          # closes (and so also ends any transaction)
EXIT_END_TX = "end-tx"        # commits or rolls back, does NOT close


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    label: str                                  # for messages: "SQLAlchemy Session"
    resource: bool = False                      # the acquiring function must release it
    lazy: bool = False                          # connects on first use (never TXL201/TXL401)
    methods: dict[str, str] = field(default_factory=dict)   # method -> kind of its result
    attrs: dict[str, str] = field(default_factory=dict)     # attribute -> kind
    call_returns: str | None = None             # calling the object itself
    item_returns: str | None = None             # obj[...]
    closers: frozenset[str] = frozenset()       # methods that release it
    tx_begin: frozenset[str] = frozenset()      # methods that begin an explicit transaction on it
    tx_end: frozenset[str] = frozenset()        # methods that end the transaction open on it
    sql_methods: frozenset[str] = frozenset()   # execute("BEGIN"/"COMMIT"/"ROLLBACK") on it
    with_exit: str = EXIT_NONE                  # what `with obj:` does on the way out
    cm_methods: dict[str, tuple[str, str]] = field(default_factory=dict)
    # ^ method -> (kind bound by `with obj.m() as x`, exit effect on it): engine.begin(), pool.acquire()
    release_args: dict[str, int] = field(default_factory=dict)  # pool.putconn(conn): releases arg 0
    closes_children: bool = False               # closing it closes what came from it (cursors)
    borrowed: frozenset[str] = frozenset()      # methods returning objects owned by someone else
    current_tx: frozenset[str] = frozenset()    # methods returning the transaction open on it
    server_side: bool = False                   # holds a server connection while open (TXL401/403)
    returns_self: frozenset[str] = frozenset()  # methods that return the object itself (chaining)


_K: dict[str, Kind] = {}


def _kind(name: str, category: str, label: str, *, base: str | None = None, **kw) -> Kind:
    if base is not None:
        k = replace(_K[base], name=name, category=category, label=label, **kw)
    else:
        k = Kind(name=name, category=category, label=label, **kw)
    _K[name] = k
    return k


# ---------------------------------------------------------------- DB-API (PEP 249) drivers
_kind("dbapi.cursor", CURSOR, "cursor", resource=True, closers=frozenset({"close"}),
      with_exit=EXIT_CLOSE, sql_methods=frozenset({"execute"}))
_kind("dbapi.connection", CONNECTION, "DB-API connection", resource=True, server_side=True,
      methods={"cursor": "dbapi.cursor"}, closers=frozenset({"close"}),
      tx_end=frozenset({"commit", "rollback"}), sql_methods=frozenset({"execute", "executescript"}),
      with_exit=EXIT_CLOSE, closes_children=True)
# sqlite3 and psycopg2: `with conn:` commits or rolls back but does not close (contract §6)
_kind("sqlite3.connection", CONNECTION, "sqlite3 connection", base="dbapi.connection", with_exit=EXIT_END_TX)
_kind("psycopg2.connection", CONNECTION, "psycopg2 connection", base="dbapi.connection", with_exit=EXIT_END_TX)
_kind("pyodbc.connection", CONNECTION, "pyodbc connection", base="dbapi.connection", with_exit=EXIT_END_TX)
_kind("psycopg.connection", CONNECTION, "psycopg connection", base="dbapi.connection", with_exit=EXIT_CLOSE,
      methods={"cursor": "dbapi.cursor", "transaction": "psycopg.transaction"})
_kind("psycopg.transaction", TRANSACTION, "psycopg transaction", with_exit=EXIT_END_TX)
_kind("pymysql.connection", CONNECTION, "PyMySQL connection", base="dbapi.connection", with_exit=EXIT_CLOSE,
      tx_begin=frozenset({"begin"}))
_kind("mysqldb.connection", CONNECTION, "MySQLdb connection", base="dbapi.connection", with_exit=EXIT_CLOSE,
      tx_begin=frozenset({"begin"}))
_kind("mysqlconnector.connection", CONNECTION, "mysql.connector connection", base="dbapi.connection",
      with_exit=EXIT_CLOSE, tx_begin=frozenset({"start_transaction"}))
_kind("oracledb.connection", CONNECTION, "oracledb connection", base="dbapi.connection", with_exit=EXIT_CLOSE,
      tx_begin=frozenset({"begin"}))
_kind("aiomysql.connection", CONNECTION, "aiomysql connection", base="dbapi.connection", with_exit=EXIT_CLOSE,
      tx_begin=frozenset({"begin"}))
_kind("dbapi.pool", POOL, "DB-API connection pool", lazy=True,
      methods={"getconn": "dbapi.pooled-connection", "get_connection": "dbapi.pooled-connection"},
      release_args={"putconn": 0})
_kind("dbapi.pooled-connection", CONNECTION, "pooled connection", base="dbapi.connection",
      with_exit=EXIT_END_TX)
_kind("psycopg.pool", POOL, "psycopg pool", lazy=True,
      methods={"getconn": "psycopg.connection"}, release_args={"putconn": 0},
      cm_methods={"connection": ("psycopg.connection", EXIT_CLOSE)})
_kind("aiomysql.pool", POOL, "aiomysql pool", lazy=True,
      methods={"acquire": "aiomysql.connection"}, release_args={"release": 0},
      cm_methods={"acquire": ("aiomysql.connection", EXIT_CLOSE)})

# ---------------------------------------------------------------- asyncpg
_kind("asyncpg.transaction", TRANSACTION, "asyncpg transaction",
      tx_begin=frozenset({"start"}), tx_end=frozenset({"commit", "rollback"}), with_exit=EXIT_END_TX)
_kind("asyncpg.connection", CONNECTION, "asyncpg connection", resource=True, server_side=True,
      methods={"transaction": "asyncpg.transaction"}, closers=frozenset({"close", "terminate"}),
      sql_methods=frozenset({"execute"}), with_exit=EXIT_CLOSE)
_kind("asyncpg.pool", POOL, "asyncpg pool", lazy=True,
      methods={"acquire": "asyncpg.pooled-connection"}, release_args={"release": 0},
      cm_methods={"acquire": ("asyncpg.pooled-connection", EXIT_CLOSE)})
_kind("asyncpg.pooled-connection", CONNECTION, "asyncpg pool connection", base="asyncpg.connection")

# ---------------------------------------------------------------- SQLAlchemy (1.x, 2.x, asyncio)
_kind("sa.transaction", TRANSACTION, "SQLAlchemy transaction",
      tx_end=frozenset({"commit", "rollback", "close"}), with_exit=EXIT_END_TX)
_kind("sa.connection", CONNECTION, "SQLAlchemy Connection", resource=True, server_side=True,
      attrs={"connection": "dbapi.connection", "driver_connection": "dbapi.connection"},
      methods={"begin": "sa.transaction", "begin_nested": "sa.transaction", "begin_twophase": "sa.transaction"},
      closers=frozenset({"close", "invalidate"}), tx_begin=frozenset({"begin", "begin_nested", "begin_twophase"}),
      tx_end=frozenset({"commit", "rollback"}), sql_methods=frozenset({"execute", "exec_driver_sql"}),
      with_exit=EXIT_CLOSE, current_tx=frozenset({"get_transaction", "get_nested_transaction"}),
      returns_self=frozenset({"execution_options"}))
_kind("sa.engine", ENGINE, "SQLAlchemy Engine", lazy=True,
      methods={"connect": "sa.connection", "raw_connection": "dbapi.connection"},
      cm_methods={"begin": ("sa.connection", EXIT_CLOSE), "connect": ("sa.connection", EXIT_CLOSE)})
_kind("sa.session", SESSION, "SQLAlchemy Session", resource=True,
      methods={"begin": "sa.transaction", "begin_nested": "sa.transaction", "connection": "sa.connection"},
      closers=frozenset({"close"}), tx_begin=frozenset({"begin", "begin_nested"}),
      tx_end=frozenset({"commit", "rollback"}), sql_methods=frozenset({"execute"}),
      with_exit=EXIT_CLOSE, borrowed=frozenset({"connection", "get_bind"}), closes_children=True,
      current_tx=frozenset({"get_transaction", "get_nested_transaction"}))
_kind("sa.session-factory", SESSION_FACTORY, "SQLAlchemy sessionmaker", lazy=True,
      call_returns="sa.session", cm_methods={"begin": ("sa.session", EXIT_CLOSE)})
# a scoped_session registry: calling it gives the thread's session, remove() closes it
_kind("sa.scoped-session", SCOPED_REGISTRY, "scoped session", lazy=True,
      call_returns="sa.scoped-member",
      methods={"begin": "sa.transaction", "begin_nested": "sa.transaction", "connection": "sa.connection"},
      closers=frozenset({"remove", "close"}), tx_begin=frozenset({"begin", "begin_nested"}),
      tx_end=frozenset({"commit", "rollback"}), sql_methods=frozenset({"execute"}),
      borrowed=frozenset({"connection", "get_bind"}),
      current_tx=frozenset({"get_transaction", "get_nested_transaction"}))
_kind("sa.scoped-member", SESSION, "scoped session", base="sa.session")
_kind("fsa.extension", EXTENSION, "Flask-SQLAlchemy extension", lazy=True,
      attrs={"session": "sa.scoped-session", "engine": "sa.engine"},
      methods={"create_scoped_session": "sa.scoped-session"})

# ---------------------------------------------------------------- Django
_kind("django.connection", CONNECTION, "Django connection", server_side=True,
      methods={"cursor": "dbapi.cursor", "chunked_cursor": "dbapi.cursor"},
      tx_end=frozenset({"commit", "rollback"}))
_kind("django.connections", OTHER, "Django connections", item_returns="django.connection")

# ---------------------------------------------------------------- peewee
_kind("peewee.database", DATABASE, "peewee Database", lazy=True,
      methods={"cursor": "dbapi.cursor"},
      closers=frozenset({"close"}), tx_begin=frozenset({"begin"}), tx_end=frozenset({"commit", "rollback"}))

# ---------------------------------------------------------------- Redis (lazy: TXL404 only)
_kind("redis.pool", REDIS, "Redis connection pool", lazy=True)
_kind("redis.client", REDIS, "Redis client", lazy=True, methods={"pubsub": "redis.pubsub", "pipeline": "other"})
_kind("redis.pubsub", OTHER, "Redis pubsub")

# ---------------------------------------------------------------- Celery
_kind("celery.app", CELERY_APP, "Celery app", lazy=True)

KINDS: dict[str, Kind] = dict(_K)

_DBAPI = {
    "sqlite3.connect": "sqlite3.connection",
    "sqlite3.dbapi2.connect": "sqlite3.connection",
    "sqlite3.Connection": "sqlite3.connection",
    "psycopg2.connect": "psycopg2.connection",
    "psycopg2.extensions.connection": "psycopg2.connection",
    "psycopg.connect": "psycopg.connection",
    "psycopg.Connection.connect": "psycopg.connection",
    "psycopg.AsyncConnection.connect": "psycopg.connection",
    "pymysql.connect": "pymysql.connection",
    "pymysql.Connect": "pymysql.connection",
    "pymysql.Connection": "pymysql.connection",
    "pymysql.connections.Connection": "pymysql.connection",
    "MySQLdb.connect": "mysqldb.connection",
    "MySQLdb.Connect": "mysqldb.connection",
    "MySQLdb.Connection": "mysqldb.connection",
    "MySQLdb.connections.Connection": "mysqldb.connection",
    "mysql.connector.connect": "mysqlconnector.connection",
    "mysql.connector.MySQLConnection": "mysqlconnector.connection",
    "oracledb.connect": "oracledb.connection",
    "cx_Oracle.connect": "oracledb.connection",
    "pyodbc.connect": "pyodbc.connection",
    "aiomysql.connect": "aiomysql.connection",
    "asyncpg.connect": "asyncpg.connection",
}

#: qualified callable -> kind of what calling it returns
FACTORIES: dict[str, str] = {
    **_DBAPI,
    "psycopg2.pool.SimpleConnectionPool": "dbapi.pool",
    "psycopg2.pool.ThreadedConnectionPool": "dbapi.pool",
    "psycopg2.pool.AbstractConnectionPool": "dbapi.pool",
    "psycopg_pool.ConnectionPool": "psycopg.pool",
    "psycopg_pool.AsyncConnectionPool": "psycopg.pool",
    "mysql.connector.pooling.MySQLConnectionPool": "dbapi.pool",
    "asyncpg.create_pool": "asyncpg.pool",
    "asyncpg.pool.create_pool": "asyncpg.pool",
    "aiomysql.create_pool": "aiomysql.pool",
    "sqlalchemy.create_engine": "sa.engine",
    "sqlalchemy.engine.create_engine": "sa.engine",
    "sqlalchemy.engine_from_config": "sa.engine",
    "sqlalchemy.engine.engine_from_config": "sa.engine",
    "sqlalchemy.ext.asyncio.create_async_engine": "sa.engine",
    "sqlalchemy.ext.asyncio.async_engine_from_config": "sa.engine",
    "sqlalchemy.orm.sessionmaker": "sa.session-factory",
    "sqlalchemy.orm.session.sessionmaker": "sa.session-factory",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sa.session-factory",
    "sqlalchemy.orm.Session": "sa.session",
    "sqlalchemy.orm.session.Session": "sa.session",
    "sqlalchemy.orm.create_session": "sa.session",
    "sqlalchemy.ext.asyncio.AsyncSession": "sa.session",
    "sqlmodel.Session": "sa.session",
    "sqlalchemy.orm.scoped_session": "sa.scoped-session",
    "sqlalchemy.orm.scoping.scoped_session": "sa.scoped-session",
    "sqlalchemy.ext.asyncio.async_scoped_session": "sa.scoped-session",
    "flask_sqlalchemy.SQLAlchemy": "fsa.extension",
    "flask.ext.sqlalchemy.SQLAlchemy": "fsa.extension",
    "sqlmodel.create_engine": "sa.engine",
    "peewee.Database": "peewee.database",
    "peewee.SqliteDatabase": "peewee.database",
    "peewee.MySQLDatabase": "peewee.database",
    "peewee.PostgresqlDatabase": "peewee.database",
    "playhouse.pool.PooledMySQLDatabase": "peewee.database",
    "playhouse.pool.PooledPostgresqlDatabase": "peewee.database",
    "playhouse.pool.PooledSqliteDatabase": "peewee.database",
    "playhouse.db_url.connect": "peewee.database",
    "redis.Redis": "redis.client",
    "redis.StrictRedis": "redis.client",
    "redis.client.Redis": "redis.client",
    "redis.client.StrictRedis": "redis.client",
    "redis.from_url": "redis.client",
    "redis.Redis.from_url": "redis.client",
    "redis.StrictRedis.from_url": "redis.client",
    "redis.ConnectionPool": "redis.pool",
    "redis.BlockingConnectionPool": "redis.pool",
    "redis.connection.ConnectionPool": "redis.pool",
    "redis.connection.BlockingConnectionPool": "redis.pool",
    "redis.ConnectionPool.from_url": "redis.pool",
    "redis.BlockingConnectionPool.from_url": "redis.pool",
    "redis.cluster.RedisCluster": "redis.client",
    "redis.RedisCluster": "redis.client",
    "redis.RedisCluster.from_url": "redis.client",
    "redis.cluster.RedisCluster.from_url": "redis.client",
    "rediscluster.RedisCluster": "redis.client",
    "rediscluster.StrictRedisCluster": "redis.client",
    "redis.asyncio.Redis": "redis.client",
    "redis.asyncio.StrictRedis": "redis.client",
    "redis.asyncio.from_url": "redis.client",
    "redis.asyncio.Redis.from_url": "redis.client",
    "redis.asyncio.ConnectionPool": "redis.pool",
    "redis.asyncio.BlockingConnectionPool": "redis.pool",
    "redis.asyncio.ConnectionPool.from_url": "redis.pool",
    "redis.asyncio.RedisCluster": "redis.client",
    "redis.asyncio.cluster.RedisCluster": "redis.client",
    "redis.asyncio.client.Redis": "redis.client",
    # aioredis 2.x (the redis.asyncio API under its old name)
    "aioredis.Redis": "redis.client",
    "aioredis.StrictRedis": "redis.client",
    "aioredis.from_url": "redis.client",
    "aioredis.Redis.from_url": "redis.client",
    "aioredis.ConnectionPool": "redis.pool",
    "aioredis.BlockingConnectionPool": "redis.pool",
    "aioredis.ConnectionPool.from_url": "redis.pool",
    "celery.Celery": "celery.app",
}

# connection classes: constructing one connects, and a parameter annotated with one has its kind
FACTORIES.update({
    "alembic.op.get_bind": "sa.connection",   # borrowed: see FUNCTIONS
    "aiomysql.Connection": "aiomysql.connection",
    "aiomysql.connection.Connection": "aiomysql.connection",
    "asyncpg.Connection": "asyncpg.connection",
    "asyncpg.connection.Connection": "asyncpg.connection",
    "asyncpg.pool.PoolConnectionProxy": "asyncpg.pooled-connection",
    "cx_Oracle.Connection": "oracledb.connection",
    "oracledb.Connection": "oracledb.connection",
    "oracledb.AsyncConnection": "oracledb.connection",
    "psycopg.Connection": "psycopg.connection",
    "psycopg.AsyncConnection": "psycopg.connection",
    "pyodbc.Connection": "pyodbc.connection",
    "mysql.connector.connection.MySQLConnection": "mysqlconnector.connection",
    "sqlalchemy.Connection": "sa.connection",
    "sqlalchemy.engine.Connection": "sa.connection",
    "sqlalchemy.engine.base.Connection": "sa.connection",
    "sqlalchemy.ext.asyncio.AsyncConnection": "sa.connection",
    "sqlalchemy.ext.asyncio.engine.AsyncConnection": "sa.connection",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "sa.session",
})

#: library classes used as types (annotations: `engine: Engine`, `pool: "asyncpg.Pool"`): an
#: instance has the kind given here (contract §13).  Kept apart from FACTORIES: constructing one
#: directly is often a library's own wrapping (`AsyncEngine(sync_engine)`), not a factory call
TYPES: dict[str, str] = {
    # SQLAlchemy
    "sqlalchemy.Engine": "sa.engine",
    "sqlalchemy.engine.Engine": "sa.engine",
    "sqlalchemy.engine.base.Engine": "sa.engine",
    "sqlalchemy.future.Engine": "sa.engine",
    "sqlalchemy.engine.Connectable": "sa.engine",
    "sqlalchemy.ext.asyncio.AsyncEngine": "sa.engine",
    "sqlalchemy.ext.asyncio.engine.AsyncEngine": "sa.engine",
    "sqlalchemy.future.Connection": "sa.connection",
    "sqlalchemy.engine.Transaction": "sa.transaction",
    "sqlalchemy.engine.base.Transaction": "sa.transaction",
    "sqlalchemy.engine.RootTransaction": "sa.transaction",
    "sqlalchemy.orm.SessionTransaction": "sa.transaction",
    "sqlalchemy.orm.session.SessionTransaction": "sa.transaction",
    "sqlalchemy.ext.asyncio.AsyncSessionTransaction": "sa.transaction",
    "sqlalchemy.ext.asyncio.AsyncTransaction": "sa.transaction",
    "sqlalchemy.orm.scoping.ScopedSession": "sa.scoped-session",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sa.session-factory",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": "sa.session-factory",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "sa.session",
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session": "sa.scoped-session",
    "sqlmodel.Session": "sa.session",
    "sqlmodel.orm.session.Session": "sa.session",
    "flask_sqlalchemy.extension.SQLAlchemy": "fsa.extension",
    # DB-API connection and cursor classes
    "sqlite3.Cursor": "dbapi.cursor",
    "sqlite3.dbapi2.Connection": "sqlite3.connection",
    "psycopg2.extensions.cursor": "dbapi.cursor",
    "psycopg2.extras.DictCursor": "dbapi.cursor",
    "psycopg2.extras.RealDictCursor": "dbapi.cursor",
    "psycopg2.extras.DictConnection": "psycopg2.connection",
    "psycopg2.extras.RealDictConnection": "psycopg2.connection",
    "psycopg2.pool.AbstractConnectionPool": "dbapi.pool",
    "psycopg.Cursor": "dbapi.cursor",
    "psycopg.AsyncCursor": "dbapi.cursor",
    "psycopg.ServerCursor": "dbapi.cursor",
    "psycopg.connection.Connection": "psycopg.connection",
    "psycopg.connection_async.AsyncConnection": "psycopg.connection",
    "psycopg.Transaction": "psycopg.transaction",
    "psycopg.AsyncTransaction": "psycopg.transaction",
    "psycopg_pool.ConnectionPool": "psycopg.pool",
    "psycopg_pool.AsyncConnectionPool": "psycopg.pool",
    "pymysql.cursors.Cursor": "dbapi.cursor",
    "pymysql.cursors.DictCursor": "dbapi.cursor",
    "pymysql.cursors.SSCursor": "dbapi.cursor",
    "MySQLdb.cursors.Cursor": "dbapi.cursor",
    "MySQLdb.cursors.DictCursor": "dbapi.cursor",
    "mysql.connector.MySQLConnection": "mysqlconnector.connection",
    "mysql.connector.abstracts.MySQLConnectionAbstract": "mysqlconnector.connection",
    "mysql.connector.connection_cext.CMySQLConnection": "mysqlconnector.connection",
    "mysql.connector.pooling.PooledMySQLConnection": "mysqlconnector.connection",
    "mysql.connector.cursor.MySQLCursor": "dbapi.cursor",
    "mysql.connector.cursor_cext.CMySQLCursor": "dbapi.cursor",
    "oracledb.Cursor": "dbapi.cursor",
    "oracledb.AsyncCursor": "dbapi.cursor",
    "cx_Oracle.Cursor": "dbapi.cursor",
    "pyodbc.Cursor": "dbapi.cursor",
    "aiomysql.Cursor": "dbapi.cursor",
    "aiomysql.cursors.Cursor": "dbapi.cursor",
    "aiomysql.Pool": "aiomysql.pool",
    "aiomysql.pool.Pool": "aiomysql.pool",
    # asyncpg
    "asyncpg.Pool": "asyncpg.pool",
    "asyncpg.pool.Pool": "asyncpg.pool",
    "asyncpg.transaction.Transaction": "asyncpg.transaction",
    # Django
    "django.db.backends.base.base.BaseDatabaseWrapper": "django.connection",
    "django.db.utils.ConnectionHandler": "django.connections",
    # peewee
    "peewee.PostgresqlDatabase": "peewee.database",
    # Redis
    "redis.client.Redis": "redis.client",
    "redis.client.PubSub": "redis.pubsub",
    "redis.asyncio.client.PubSub": "redis.pubsub",
    "redis.asyncio.connection.ConnectionPool": "redis.pool",
    "redis.connection.ConnectionPool": "redis.pool",
    "redis.cluster.RedisCluster": "redis.client",
    "redis.asyncio.cluster.RedisCluster": "redis.client",
}

#: lazy-import helpers: a call with a literal module name binds that module (contract §13).
#: Qualified functions, and project helpers known by their name (the module is the last literal)
LAZY_IMPORT_FUNCTIONS = frozenset({"importlib.import_module", "__import__", "builtins.__import__"})
LAZY_IMPORT_HELPERS = frozenset({"LazyLoader", "LazyImport", "LazyModule", "lazy_import", "import_module"})

#: methods of a class that release what its objects own (contract §14)
RELEASE_METHOD_NAMES = ("close", "__exit__", "__aexit__", "dispose", "shutdown", "stop", "disconnect",
                        "teardown", "release")
#: methods that build an object: what they store on `self` was not there before
CONSTRUCTION_METHODS = frozenset({"__init__", "__new__", "__post_init__", "__enter__", "__aenter__", "setUp",
                                  "asyncSetUp", "setup_method"})
#: methods that enter an object's context: Python runs no `__exit__` when they raise
ENTER_METHODS = frozenset({"__enter__", "__aenter__"})
#: explicit calls of the context-manager protocol that release the object like close()
EXPLICIT_EXITS = frozenset({"__exit__", "__aexit__"})

#: attributes that are true when a connection is closed (`if conn.closed:`)
CLOSED_FLAGS = frozenset({"closed"})
#: calls that end the process: a path that ends there leaks nothing (contract §9)
PROCESS_EXITS = frozenset({"sys.exit", "os._exit", "os.abort"})
PROCESS_EXIT_EXCEPTIONS = frozenset({"SystemExit", "builtins.SystemExit"})

#: qualified names that are objects of a kind without being called
OBJECTS: dict[str, str] = {
    "django.db.connection": "django.connection",
    "django.db.connections": "django.connections",
}

#: constructors that only wrap a connection they are handed (keyword -> the wrapped connection):
#: `Connection(engine, connection=dbapi_conn)` borrows, it does not acquire
WRAPPING_KEYWORDS: dict[str, str] = {
    "sqlalchemy.Connection": "connection",
    "sqlalchemy.engine.Connection": "connection",
    "sqlalchemy.engine.base.Connection": "connection",
}

#: module-level functions with effects that are not tied to one object:
#: name -> (effect, key, condition). Effects: "tx-begin", "tx-end", "borrow".
#: ``condition`` is "arg0-false" / "arg0-true" / "" (always).
FUNCTIONS: dict[str, tuple[str, str, str]] = {
    "django.db.transaction.set_autocommit": ("tx-begin", "django.autocommit", "arg0-false"),
    "django.db.transaction.commit": ("tx-end", "django.autocommit", ""),
    "django.db.transaction.rollback": ("tx-end", "django.autocommit", ""),
    "alembic.op.get_bind": ("borrow", "", ""),
}
# set_autocommit(True) also ends the manual transaction
AUTOCOMMIT_ON = ("django.db.transaction.set_autocommit", "arg0-true")

#: context managers that make a block transactional and end it themselves
MANAGED_TX_CONTEXTS = frozenset({
    "django.db.transaction.atomic",
})

#: the TXL101/TXL102 fix: explicit begins whose library has a `with` form that commits when the
#: block ends and rolls back when it raises. kind of the object the begin is called on ->
#: {how the transaction begins: (method of that object whose context manager replaces the
#: begin ... commit, whether a commit on that object (not only on the begin's handle) ends it)}.
#: "execute BEGIN" is ``obj.execute("BEGIN")``; an empty method means the `with` goes on the call
#: that created the transaction object (asyncpg ``tr = conn.transaction(); await tr.start()``).
TX_WITH_FORMS: dict[str, dict[str, tuple[str, bool]]] = {
    "sa.connection": {"begin": ("begin", True), "begin_nested": ("begin_nested", False)},
    "sa.session": {"begin": ("begin", True), "begin_nested": ("begin_nested", False)},
    "sa.scoped-member": {"begin": ("begin", True), "begin_nested": ("begin_nested", False)},
    "sa.scoped-session": {"begin": ("begin", True), "begin_nested": ("begin_nested", False)},
    "psycopg.connection": {"execute BEGIN": ("transaction", True)},
    "asyncpg.transaction": {"start": ("", False)},
}

#: wrappers that take ownership of a resource passed to them and close it
OWNERSHIP_TAKERS = frozenset({
    "contextlib.closing",
    "contextlib.ExitStack.enter_context",
    "contextlib.ExitStack.callback",
    "contextlib.ExitStack.push",
    "contextlib.AsyncExitStack.enter_async_context",
    "contextlib.AsyncExitStack.enter_context",
    "contextlib.AsyncExitStack.push_async_callback",
    "contextlib.AsyncExitStack.callback",
    "weakref.finalize",
    "atexit.register",
})

# SQL text that begins or ends a transaction when passed to an execute() method
SQL_BEGIN = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)
SQL_END = re.compile(r"^\s*(COMMIT|ROLLBACK|END)\b(?!\s+TO\b)", re.IGNORECASE)

# ---------------------------------------------------------------- Celery and waits (rules 3xx/4xx)
TASK_DECORATORS = frozenset({
    "celery.shared_task",
    "celery.task",
    "celery.decorators.task",
    "celery.app.task",
})
CELERY_APP_TASK_ATTRS = frozenset({"task", "shared_task"})
CELERY_SIGNALS = frozenset({
    "celery.signals.task_postrun", "celery.signals.task_prerun", "celery.signals.task_success",
    "celery.signals.task_failure", "celery.signals.worker_process_init",
    "celery.signals.worker_process_shutdown",
})
# calls that block the current thread (TXL403); qualified names or method names on any object
WAIT_FUNCTIONS = frozenset({"time.sleep", "asyncio.sleep", "gevent.sleep", "eventlet.sleep", "trio.sleep",
                            "anyio.sleep", "select.select"})
WAIT_METHODS = frozenset({"wait", "get", "listen", "brpop", "blpop", "brpoplpush", "bzpopmin", "bzpopmax",
                          "recv", "receive", "receive_text", "receive_json", "receive_bytes", "xread",
                          "get_message", "accept"})
CONNECTION_REFRESHERS = frozenset({"django.db.close_old_connections", "django.db.connection.close",
                                   "django.db.connections.close_all"})
# methods of a held connection that check it each round and reconnect or drop it when the server
# closed it (PyMySQL/mysql.connector `ping(reconnect=True)`, Django's `close_if_unusable_or_obsolete`)
CONNECTION_RECHECKS = frozenset({"ping", "reconnect", "close_if_unusable_or_obsolete"})

# Redis keyword that makes a client check idle connections before use
REDIS_HEALTH_KEYWORD = "health_check_interval"
# create_engine keywords that keep pooled connections alive
ENGINE_LIVENESS_KEYWORDS = ("pool_pre_ping", "pool_recycle")
ENGINE_EXEMPT_POOLS = frozenset({"sqlalchemy.pool.NullPool", "sqlalchemy.pool.StaticPool",
                                 "sqlalchemy.NullPool", "sqlalchemy.StaticPool",
                                 "sqlalchemy.pool.impl.NullPool", "sqlalchemy.pool.impl.StaticPool"})
# SQLAlchemy URL dialects of embedded databases (no server, no idle timeout): TXL402 exempt
EMBEDDED_DIALECTS = frozenset({"sqlite", "duckdb"})
# SQLAlchemy URL schemes (``dialect`` or ``dialect+driver``, as written) of API dialects that keep no
# server connection (each query is a web API call; a pooled connection has nothing to go stale):
# TXL402 exempt.  shillelagh's dialects (Google Sheets and other APIs; not its multicorn2 driver,
# which runs in a PostgreSQL server) and Superset's shillelagh-based meta database.
API_DIALECTS = frozenset({"gsheets", "shillelagh", "shillelagh+apsw", "shillelagh+safe", "shillelagh+sqlglot",
                          "metricflow", "superset"})
# methods that make an otherwise lazy object open and keep a server connection on itself
# (TXL401 when called at import time): kind -> method names
HOLDING_METHODS: dict[str, frozenset[str]] = {
    "peewee.database": frozenset({"connect"}),
    "django.connection": frozenset({"ensure_connection", "connect"}),
}


#: the standard library's packages that resolution never reads (all of it but the names a
#: project's own package plausibly takes: ``site``, ``test``, ``code``, ``types``, ``token`` ...)
STDLIB_NEVER_READ = frozenset("""
    typing typing_extensions logging os posixpath ntpath sys collections functools itertools re json datetime
    time threading _thread multiprocessing asyncio concurrent subprocess pathlib contextlib abc enum
    dataclasses inspect warnings copy copyreg io socket ssl urllib http email unittest argparse shutil
    tempfile traceback weakref operator string textwrap pickle hashlib hmac base64 uuid decimal
    fractions math random statistics struct zipfile tarfile gzip bz2 lzma zlib csv configparser xml
    html importlib pkgutil ast dis tokenize codecs locale gettext signal select selectors queue heapq
    bisect array ctypes sqlite3 platform getpass glob fnmatch stat errno pprint reprlib numbers
    builtins atexit sched calendar zoneinfo difflib doctest pydoc timeit cProfile profile pstats
    lib2to3 distutils venv ensurepip idlelib tkinter turtle curses optparse getopt shlex mimetypes
    smtplib imaplib poplib ftplib telnetlib xmlrpc wsgiref socketserver binascii quopri mailbox
    encodings unicodedata readline rlcompleter cmd asynchat asyncore sre_compile sre_parse sre_constants
    opcode keyword linecache genericpath fileinput filecmp contextvars graphlib secrets shelve dbm
    plistlib netrc ipaddress webbrowser runpy compileall py_compile zipimport modulefinder symtable
    tabnanny pyclbr pickletools faulthandler tracemalloc gc marshal""".split())


def _library_roots() -> frozenset[str]:
    names: set[str] = set(STDLIB_NEVER_READ)
    for group in (FACTORIES, TYPES, OBJECTS, FUNCTIONS, TASK_DECORATORS, CELERY_SIGNALS, OWNERSHIP_TAKERS,
                  MANAGED_TX_CONTEXTS, WAIT_FUNCTIONS):
        names.update(q.split(".")[0] for q in group)
    return frozenset(names)


#: top-level packages whose objects the table describes, and the standard library: resolution
#: follows their imports but never reads the bodies of their functions and classes, even when
#: the analysed tree holds their source (and never reads the standard library at all)
LIBRARY_ROOTS = _library_roots()


@dataclass
class ResourceTable:
    """The table as one object, so config can extend a copy without touching the defaults."""

    kinds: dict[str, Kind] = field(default_factory=lambda: dict(KINDS))
    factories: dict[str, str] = field(default_factory=lambda: dict(FACTORIES))
    objects: dict[str, str] = field(default_factory=lambda: dict(OBJECTS))
    types: dict[str, str] = field(default_factory=lambda: dict(TYPES))
    functions: dict[str, tuple[str, str, str]] = field(default_factory=lambda: dict(FUNCTIONS))
    closers: frozenset[str] = frozenset()           # project helpers that close their first argument
    task_decorators: frozenset[str] = TASK_DECORATORS
    #: kind_of_ref's answers: a table is not changed once in use (``extend`` makes a new one)
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def extend(self, *, closers=(), task_decorators=(), factories: dict[str, str] | None = None) -> "ResourceTable":
        out = ResourceTable(dict(self.kinds), dict(self.factories), dict(self.objects), dict(self.types),
                            dict(self.functions), self.closers | frozenset(closers),
                            self.task_decorators | frozenset(task_decorators))
        for name, kind in (factories or {}).items():
            if kind not in out.kinds:
                raise ValueError(f"unknown resource kind {kind!r} for {name!r}")
            out.factories[name] = kind
        return out

    # ---- kinds of refs -------------------------------------------------------------
    def kind(self, name: str | None) -> Kind | None:
        return self.kinds.get(name) if name else None

    def kind_of_ref(self, ref: str | None) -> Kind | None:
        """Kind of the value a ref denotes (``sqlite3.connect()`` -> sqlite3 connection)."""
        if not ref:
            return None
        memo = self._memo
        if ref in memo:
            return memo[ref]
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        found = memo[ref] = self._kind_of_ref(ref)
        return found

    def _kind_of_ref(self, ref: str) -> Kind | None:
        ops = _split_ref(ref)
        # longest dotted prefix that is a known factory (when called) or object
        kind: str | None = None
        start = -1
        dotted = ""
        names: list[str] = []
        for i, op in enumerate(ops):
            if op in ("()", "[]"):
                break
            names.append(op)
        for n in range(len(names), 0, -1):
            dotted = ".".join(names[:n])
            if dotted in self.objects:
                kind, start = self.objects[dotted], n
                break
            if n < len(ops) and ops[n] == "()" and (dotted in self.factories or dotted in self.types):
                kind, start = self.factories.get(dotted) or self.types[dotted], n + 1
                break
            if dotted[:1] == KIND_REF and dotted[1:] in self.kinds and n < len(ops) and ops[n] == "()":
                kind, start = dotted[1:], n + 1  # an instance of a kind itself: kind_ref()
                break
        if kind is None:
            return None
        i = start
        while i < len(ops) and kind is not None:
            op = ops[i]
            spec = self.kinds.get(kind)
            if spec is None:
                return None
            if op == "()":
                kind = spec.call_returns
            elif op == "[]":
                kind = spec.item_returns
            elif i + 1 < len(ops) and ops[i + 1] == "()" and op in spec.methods:
                kind = spec.methods[op]
                i += 1
            elif op in spec.attrs:
                kind = spec.attrs[op]
            else:
                return None
            i += 1
        return self.kinds.get(kind) if kind else None

    def factory_kind(self, callee_ref: str | None) -> Kind | None:
        """Kind of what calling ``callee_ref`` returns."""
        return self.kind_of_ref(callee_ref + "()") if callee_ref else None


def kind_ref(kind_name: str) -> str:
    """A ref that denotes an instance of a kind (``~sa.session()``), for values known only by kind."""
    return f"{KIND_REF}{kind_name}()"


def _split_ref(ref: str) -> list[str]:
    """``a.b().c[]`` -> ``["a", "b", "()", "c", "[]"]`` (a new list: callers may change it)."""
    found = _SPLIT.get(ref)
    if found is None:
        if len(_SPLIT) >= MEMO_LIMIT:
            _SPLIT.clear()
        found = _SPLIT[ref] = tuple(_REF_TOKEN.findall(ref))
    return list(found)


_REF_TOKEN = re.compile(r"\(\)|\[\]|[^.()\[\]]+")
#: refs recur across every file of a run (``sqlalchemy.orm.Session()``): their tokens and kinds
#: are remembered, up to this many entries per memo (then the memo starts again)
MEMO_LIMIT = 8192
_SPLIT: dict[str, tuple[str, ...]] = {}


DEFAULT_TABLE = ResourceTable()
