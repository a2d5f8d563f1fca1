"""``ved_warn``: turn a message into a real Ansible [WARNING] line (and return it).

Roles use it where an explicit opt-in makes a risky setting legal (for example
``postgresql_allow_world_open: true``): the play goes on but says so, in the place users
and log scrapers look for warnings. Ansible prints each distinct warning once per run.
"""

from __future__ import annotations

from ansible.utils.display import Display


def ved_warn(message) -> str:
    text = str(message)
    Display().warning(text)
    return text


class FilterModule:
    def filters(self) -> dict:
        return {"ved_warn": ved_warn}
