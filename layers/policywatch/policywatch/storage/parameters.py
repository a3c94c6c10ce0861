"""SSM Parameter Store: what the stack publishes for its functions after they exist (the site's address)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from policywatch.storage import clients
from policywatch.storage.errors import adapter


@adapter
class ParameterStore:
    def get(self, name: str) -> str | None:
        """The parameter's value, or None while it does not exist."""
        try:
            return str(clients.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ParameterNotFound":
                return None
            raise
