"""Which environments may be seeded: the one home of that rule.

A seed replaces the application data, so it runs only where the environment is explicitly
disposable. ``library/vedfin_seed.py`` applies ``check_environment`` before anything else, and
playbooks/seed.yml asks the module (option ``environment_only``) before it changes anything;
``seed()`` applies it whenever an environment is given.
"""

from __future__ import annotations

import re

from ansible.module_utils.vedfin_seed.params import SeedError

# Environments whose data may be replaced by a seed (compared case-insensitively). staging is
# not on it: a staging database often holds a copy of real data; mark it with
# seed_disposable: true in its inventory when its data may go.
DISPOSABLE_ENVIRONMENTS = ("local", "dev", "ci", "test", "demo")
# Words that name a production environment; checked per word, so prod-eu or eu-live count.
PRODUCTION_WORDS = frozenset({"production", "prod", "prd", "live"})

RULE = (
    "a seed replaces the application data, so it runs only with vedfin_environment=<one of {allowed}> "
    "(module option environment) or with seed_disposable: true in the environment's inventory "
    "(module option disposable); a production name ({words}; also as a word of prod-eu, eu_live, ...) "
    "needs seed_allow_production=true (module option allow_production) as well"
).format(allowed=", ".join(DISPOSABLE_ENVIRONMENTS), words=", ".join(sorted(PRODUCTION_WORDS)))


def check_environment(environment, disposable=False, allow_production=False) -> str:
    """The normalized environment name if seeding (which replaces the application data) may
    run there; SeedError naming the variables and the allowed values (``RULE``) otherwise.

    Allowed: a name on ``DISPOSABLE_ENVIRONMENTS``, or any other named environment explicitly
    marked ``disposable`` (inventory ``seed_disposable: true``). A name with a production
    word (production, prod, prd, live; also inside prod-eu, eu_live, ...) needs the marker
    and ``allow_production`` both. Missing or empty is refused.
    """
    name = "" if environment is None else str(environment).strip().lower()
    words = set(re.split(r"[^a-z0-9]+", name))
    if not name:
        got = "missing" if environment is None else f"empty ({environment!r})"
        why = f"refusing to seed: the environment is {got}"
    elif words & PRODUCTION_WORDS:
        if disposable and allow_production:
            return name
        found = ", ".join(sorted(words & PRODUCTION_WORDS))
        why = f"refusing to seed environment {environment!r}: it names a production environment ({found})"
    elif name in DISPOSABLE_ENVIRONMENTS or disposable:
        return name
    else:
        why = f"refusing to seed environment {environment!r}: it is not marked disposable"
    raise SeedError(f"{why}; {RULE}")
