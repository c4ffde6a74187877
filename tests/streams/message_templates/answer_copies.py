"""A copy of the built-in English answer file, changed by a test, in a folder of its own."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parcelwatch.streams.message_templates.answer_files import BUILT_IN_ANSWERS


def english_answers_with(folder: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    shutil.copy(BUILT_IN_ANSWERS / "en.json", folder / "en.json")
    data = json.loads((folder / "en.json").read_text())
    change(data)
    (folder / "en.json").write_text(json.dumps(data))
    return folder
