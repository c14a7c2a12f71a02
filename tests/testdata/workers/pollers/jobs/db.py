from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://jobs@db/jobs", pool_pre_ping=True)
SessionLocal = sessionmaker(bind=engine)
