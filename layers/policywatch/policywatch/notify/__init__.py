"""Stage 3, notification: fan a change out to the subscribers who watch its platform, within their tier.

Public: ``fanout.deliver_change`` (a change event to every entitled subscriber, each delivery
claimed once), ``jobs`` (the delivery queue's jobs and ``RetryQueue``; ``describe`` of a failure),
``retries.redeliver`` (one more attempt from the delivery queue),
``reconcile.reconcile`` (deliveries left unsettled), ``digest.send_digests`` (the weekly digest),
``dispatch.DeliveryOptions`` (how subscribers are reached), ``settings``. Inside: ``channels``
(email, SMS and webhook sends).
"""
