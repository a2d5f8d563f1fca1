"""One scale list: the seeder's presets (module_utils/vedfin_seed/params.py PRESETS). The
modules' argument specs and tools/bench_large.py read it; the places that cannot import it
(the modules' DOCUMENTATION, bench.yml's check before any change, the vedops CLI's choices, the
bench targets) are held equal to it here."""

from __future__ import annotations

import re

import yaml
from ansible.module_utils.vedfin_bench.checks import TARGETS
from ansible.module_utils.vedfin_seed.params import PRESETS
from ansible_run import ROOT

from vedops.cli import SCALES


def doc_choices(module: str, option: str) -> list[str]:
    text = (ROOT / "library" / f"{module}.py").read_text()
    doc = yaml.safe_load(re.search(r'DOCUMENTATION = r?"""(.*?)"""', text, re.S).group(1))
    return doc["options"][option]["choices"]


def test_every_copy_of_the_scale_list_equals_the_presets():
    scales = list(PRESETS)
    assert doc_choices("vedfin_seed", "preset") == [*scales, "custom"]
    assert doc_choices("vedfin_bench", "scale") == scales
    assert list(SCALES) == scales
    assert list(TARGETS) == scales
    bench = yaml.safe_load((ROOT / "playbooks" / "bench.yml").read_text())
    tasks = [task for play in bench for task in play.get("tasks", [])]
    check = next(t for t in tasks if t["name"] == "Check the scale label")
    assert check["ansible.builtin.assert"]["that"] == f"bench_scale in {scales}"
