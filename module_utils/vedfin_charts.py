"""What the controller-side HTML reports (bench and health) share: matplotlib on the Agg
backend, figures as embedded PNG data URIs, and :class:`ReportError`.

The renderers run on the controller, where .venv has matplotlib. The bench module's payload
carries this file too (its summary raises ReportError), but matplotlib is imported only when a
chart is drawn, so a database host never needs it.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from ansible.module_utils.vedfin_pg import VedfinError


class ReportError(VedfinError):
    """A report cannot be rendered (missing library, unreadable or foreign result file)."""


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display); ReportError when it is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - the controller's .venv has it (requirements.txt)
        raise ReportError(
            "the Python library matplotlib is required for the HTML report but not installed"
        ) from None
    return plt


def png(fig) -> str:
    """The figure as a PNG data URI (90 dpi); closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def read_result(path, what: str, error: type[Exception] = ReportError) -> dict:
    """A result JSON file as a dict; ``error`` "cannot read the <what> result <path>: ..."."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"cannot read the {what} result {path}: {exc}") from None
