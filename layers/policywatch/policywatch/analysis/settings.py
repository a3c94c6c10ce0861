"""The diff function's settings (see ``policywatch.core.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from policywatch.core.settings import Settings, env


@dataclass(frozen=True, kw_only=True)
class DiffSettings(Settings):
    change_topic_arn: str = env("CHANGE_TOPIC_ARN")
    site_table: str = env("SITE_TABLE")
    # Effective-date reminders (docs/alerts.md): the schedule group, the function its schedules
    # invoke and the role they invoke it as. Empty: no reminders are scheduled or cancelled.
    reminder_schedule_group: str = env("REMINDER_SCHEDULE_GROUP", "")
    reminder_function_arn: str = env("REMINDER_FUNCTION_ARN", "")
    reminder_role_arn: str = env("REMINDER_ROLE_ARN", "")

    @property
    def reminders(self) -> bool:
        return bool(self.reminder_schedule_group and self.reminder_function_arn and self.reminder_role_arn)
