from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker


class Repo:
    def __init__(self, url: str):
        self.Session = sessionmaker(bind=create_engine(url, pool_pre_ping=True))

    def count(self) -> int:
        session = self.Session()  # expect: TXL201, TXL202
        return session.query(1).count()

    def count_ok(self) -> int:
        with self.Session() as session:
            return session.query(1).count()


class Typed:
    def __init__(self, factory):
        self.session: Session = factory()

    def shared(self) -> Session:
        return self.session

    def fresh(self) -> Session:
        return Session(bind=None)

    def use_shared(self) -> None:
        # borrowed from the object: not this method's to close
        self.shared().execute("SELECT 1")

    def use_fresh(self) -> None:
        s = self.fresh()  # expect: TXL201, TXL202
        s.execute("SELECT 1")
