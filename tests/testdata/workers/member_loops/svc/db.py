import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://svc@db/svc", pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine)

CHECKED_POOL = redis.ConnectionPool(host="cache", health_check_interval=30)
UNCHECKED_POOL = redis.ConnectionPool(host="cache")  # expect: TXL404
