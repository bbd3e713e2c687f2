"""What a Celery worker does once started."""

import gc

from celery.signals import worker_process_init, worker_ready


def test_a_started_worker_leaves_its_start_up_objects_out_of_collection() -> None:
    gc.unfreeze()
    try:
        worker_process_init.send(sender=None)  # a child of the prefork pool
        child = gc.get_freeze_count()
        gc.unfreeze()
        worker_ready.send(sender=None)  # the solo and threads pools

        # Django's and Wagtail's objects, and Relay's: far more than a few.
        assert child > 10_000
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
