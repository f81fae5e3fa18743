"""Jobs that send notifications on through e-mail and chat robots, with retries."""

from celery import shared_task

from . import services
from .models import Delivery


@shared_task(bind=True, max_retries=None)
def deliver(self, delivery_id: int) -> str:
    """Try a delivery; after a failure, again later (1 min, 5 min, 15 min, 1 h) until
    ``services.MAX_ATTEMPTS`` attempts were made, then it stays failed in the log."""
    delivery = services.attempt_delivery(delivery_id)
    if delivery is None:
        return "skipped"
    if delivery.status == Delivery.Status.PENDING:
        countdown = services.retry_delay(delivery.attempts)
        if self.request.is_eager:
            # Run in-process (tests, TUOKE_TASKS_EAGER): there is no worker to come back
            # later, and a raised Retry would propagate; Celery applies a returned one now.
            return self.retry(countdown=countdown, throw=False)
        raise self.retry(countdown=countdown)
    return delivery.status


@shared_task
def requeue_lost_deliveries_task() -> int:
    """Queue again the deliveries never tried long after they were made: their job was
    lost. Returns how many."""
    return services.requeue_lost_deliveries()
