"""Where state lives: the only package that creates AWS clients and talks to S3, DynamoDB, SQS, SNS and SES.

Handlers build these adapters from their settings and hand them to the stages; every public
method raises ``errors.StorageError`` (a ``TransientError``) for an AWS failure, never botocore's.

Public: ``archive.Archive`` (snapshots, versions, change records) and its key format
(``parse_key``, ``key_for``, ``VersionRef``), ``documents.DocumentStates`` (fetch state),
``deliveries.Deliveries`` (claims and attempts), ``subscribers.Subscribers`` (profiles and watch
items), ``queues.Queue``, ``topics.Topic``, ``outbound.Mailer`` and ``outbound.SmsSender``.
"""
