"""Start, stop, build and deploy to a MiniStack: shared by `make up` and the e2e tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class StackError(RuntimeError):
    """MiniStack or SAM did not do what was asked; the message says what and where to look."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class MiniStack:
    """One MiniStack server on loopback with persistent state under ``state_dir``."""

    port: int
    state_dir: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "ministack.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "ministack.log"

    def env(self) -> dict[str, str]:
        """Environment for AWS clients (boto3, sam) talking to this MiniStack."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(CREDENTIALS)
        env.update({"AWS_ENDPOINT_URL": self.endpoint, "SAM_CLI_TELEMETRY": "0"})
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_ministack/health", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def start(self, timeout: float = 60) -> None:
        if self.healthy():
            return
        if port_open(self.port):
            raise StackError(f"port {self.port} is taken by something that is not MiniStack")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = self.env()
        env.update(
            {
                "GATEWAY_PORT": str(self.port),
                "BIND_HOST": "127.0.0.1",  # never expose the emulator beyond this machine
                "PERSIST_STATE": "1",
                "S3_PERSIST": "1",
                "STATE_DIR": str(self.state_dir / "state"),
                # S3 objects default to a folder shared by every MiniStack on the machine.
                "S3_DATA_DIR": str(self.state_dir / "state" / "s3"),
                "LOG_LEVEL": "INFO",
                # Enforce IAM as AWS does: every function runs with its execution role's
                # credentials, so a grant missing from template.yaml fails here, not in AWS.
                "AUTH": "true",
            }
        )
        for key in CREDENTIALS | {"AWS_ENDPOINT_URL": ""}:
            env.pop(key, None)
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(  # noqa: S603
                [str(VENV_BIN / "ministack")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.state_dir,
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"MiniStack exited with code {process.returncode}; see {self.log_file}")
            if self.healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise StackError(f"MiniStack did not answer on port {self.port} within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 20) -> bool:
        """Stop the server started from this state folder; True if one was running."""
        if not self.pid_file.exists():
            return False
        pid = int(self.pid_file.read_text().strip())
        try:
            os.killpg(pid, signal.SIGTERM)  # its own session: workers go with it
        except ProcessLookupError:
            self.pid_file.unlink(missing_ok=True)
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def run(cmd: list[str], env: dict[str, str]) -> None:
    """Run a SAM command from the project root; on failure show its output's tail."""
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise StackError(f"{' '.join(cmd[:2])} failed (exit {result.returncode}):\n{tail}")


def build(env: dict[str, str], build_dir: Path | None = None) -> Path:
    build_dir = build_dir or ROOT / ".aws-sam" / "build"
    cmd = [
        str(VENV_BIN / "sam"),
        "build",
        "--build-dir",
        str(build_dir),
        "--cached",
        "--cache-dir",
        str(build_dir.parent / "cache"),
    ]
    run(cmd, env)
    return build_dir


def deploy(env: dict[str, str], stack_name: str, build_dir: Path, parameters: dict[str, str]) -> dict[str, str]:
    """`sam deploy` the built template to the endpoint in ``env``; returns the stack outputs."""
    _delete_if_rolled_back(env, stack_name)
    overrides = [f"{k}={v}" for k, v in parameters.items()]
    cmd = [
        str(VENV_BIN / "sam"),
        "deploy",
        "--template-file",
        str(build_dir / "template.yaml"),
        "--stack-name",
        stack_name,
        "--resolve-s3",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--no-progressbar",
        "--region",
        env["AWS_REGION"],
        "--parameter-overrides",
        *overrides,
    ]
    run(cmd, env)
    found = outputs(env, stack_name)
    _lock_archive(env, found["ArchiveBucketName"], parameters)
    _scaling_as_numbers(env)
    return found


def _scaling_as_numbers(env: dict[str, str]) -> None:
    """Event source mappings' ``MaximumConcurrency`` as the number CloudFormation makes of it.

    A parameter's ``!Ref`` is a string; AWS converts it, MiniStack's CloudFormation keeps it, and
    its SQS poller then fails comparing it with a number (every queue of the stack stops being
    read). Its Lambda API takes the number, so the local stack sets it there, on every mapping
    that has one (MiniStack's answers show the string as a number, so it cannot be told apart).
    """
    lam = _client(env, "lambda")
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for mapping in page["EventSourceMappings"]:
            limit = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
            if limit is not None:
                lam.update_event_source_mapping(UUID=mapping["UUID"], ScalingConfig={"MaximumConcurrency": int(limit)})


def _lock_archive(env: dict[str, str], bucket: str, parameters: dict[str, str]) -> None:
    """The archive's Object Lock rule, as template.yaml declares it.

    MiniStack's CloudFormation creates the bucket but ignores ``ObjectLockConfiguration``; its S3
    API enforces the rule once it is set, so the local stack sets it through the API, with the
    template's parameters (their defaults unless overridden), as CloudFormation does in AWS.
    """
    from devstack.template import load

    declared = load(ROOT / "template.yaml")["Parameters"]
    mode = parameters.get("ArchiveLockMode", declared["ArchiveLockMode"]["Default"])
    days = int(parameters.get("ArchiveLockDays", declared["ArchiveLockDays"]["Default"]))
    wanted = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}}
    s3 = _client(env, "s3")
    try:
        current = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration")
    except s3.exceptions.ClientError:
        current = None
    if current != wanted:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=wanted)


def _client(env: dict[str, str], service: Literal["cloudformation", "ses", "s3", "lambda"]) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _delete_if_rolled_back(env: dict[str, str], stack_name: str) -> None:
    """A stack whose first create failed cannot be updated: remove it so the deploy can retry."""
    from botocore.exceptions import ClientError

    cfn = _client(env, "cloudformation")
    try:
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except ClientError:
        return
    if status == "ROLLBACK_COMPLETE":
        cfn.delete_stack(StackName=stack_name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def outputs(env: dict[str, str], stack_name: str) -> dict[str, str]:
    stack = _client(env, "cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def verify_sender(env: dict[str, str], sender: str) -> None:
    """Check the template's SES identity for the sender is verified, as sending requires."""
    ses = _client(env, "ses")
    status = ses.get_identity_verification_attributes(Identities=[sender])["VerificationAttributes"]
    if status.get(sender, {}).get("VerificationStatus") != "Success":
        raise StackError(f"SES sender {sender} is not verified: {json.dumps(status)}")


def chromium_path() -> str:
    """The Chromium the local render function and the browser tests drive: ``CHROMIUM_PATH``,
    else the distribution's (scripts/bootstrap.sh installs Debian's ``chromium``)."""
    from policywatch.fetch.render import find_chromium  # the same lookup as `policywatch extract`

    found = find_chromium()
    if not found:
        raise StackError(
            "no Chromium found: run scripts/bootstrap.sh (it installs Debian's chromium) or set CHROMIUM_PATH"
        )
    return found
