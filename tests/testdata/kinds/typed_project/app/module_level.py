from app.shared import new_connection, shared_connection

# the shared connection is reported where it is opened (app/shared.py), not here
conn = shared_connection()
# a project function that opens a new one: this module keeps it for the life of the process
own = new_connection()  # expect: TXL401
