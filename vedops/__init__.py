"""vedops: the ops entry point. Runs the repo's playbooks through ansible-runner with a live
one-line progress display, a full log per stage under reports/logs/ and a final summary.

    python -m vedops demo --scale demo
    python -m vedops health -e health_gate=true

Plain ``ansible-playbook -i inventories/local playbooks/<stage>.yml`` runs the same playbooks.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
