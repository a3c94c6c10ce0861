"""The checkpoint function's settings (see ``policywatch.core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.core.settings import Settings, env


@dataclass(frozen=True, kw_only=True)
class CheckpointSettings(Settings):
    archive_bucket: str = env("ARCHIVE_BUCKET")
    signing_key_arn: str = env("SIGNING_KEY_ARN")  # the stack's asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY)
