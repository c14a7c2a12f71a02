from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("postgresql://etl@warehouse/dw", pool_pre_ping=True)
WarehouseSession = scoped_session(sessionmaker(bind=engine))
