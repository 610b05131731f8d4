"""How CloudWatch alarm failures are coded: the alarmed metric's name (``PutMedia.Success``)."""

from __future__ import annotations

import re

from receiver.catalog import CodeRules


class CloudWatchCodes(CodeRules):
    pattern = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]+$")
