class Closable:
    """A base class whose close() releases what subclasses keep on self.conn."""

    conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()


class Forgetful:
    def close(self):
        self.closed = True
