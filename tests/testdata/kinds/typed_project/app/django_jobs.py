def run_batch(items):
    from django.db import transaction

    transaction.set_autocommit(False)  # expect: TXL101, TXL102
    for item in items:
        item.save()
    if not items:
        return
    transaction.commit()


def run_batch_ok(items):
    from django.db import transaction

    transaction.set_autocommit(False)
    try:
        for item in items:
            item.save()
    except Exception:
        transaction.rollback()
        raise
    else:
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
