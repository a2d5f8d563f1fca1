"""Make ``ansible.module_utils.vedfin_*`` importable in plain Python (tools/, tests/).

The shared code in module_utils/ has one import name, ``ansible.module_utils.vedfin_x``, the
one the modules in library/ use: ansible.cfg sets ``module_utils = module_utils`` and Ansible
ships those files inside the ``ansible.module_utils`` package of the module's AnsiballZ
payload.  Outside Ansible, :func:`register` adds this repository's module_utils/ to the path of
that package (a regular package: its ``__path__`` list takes another directory), so the same
name resolves to the same files, one module object per file.  The one place that does it::

    import module_utils_path

    module_utils_path.register()

    from ansible.module_utils.vedfin_pg import connect  # noqa: E402

Scripts in tools/ find this file next to them; tests/conftest.py calls it for the tests.
"""

from __future__ import annotations

from pathlib import Path

import ansible.module_utils

MODULE_UTILS = str(Path(__file__).resolve().parent.parent / "module_utils")


def register() -> None:
    """Add the repository's module_utils/ to ``ansible.module_utils.__path__`` (once)."""
    if MODULE_UTILS not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(MODULE_UTILS)
