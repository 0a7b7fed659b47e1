"""The JSON Schema of every event, as committed under `contracts/schemas/`.

`python -m microblog_contracts.schemas DIR` rewrites them; a test fails when they drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from microblog_contracts.registry import EVENT_TYPES


def schema_documents() -> dict[str, str]:
    """File name -> pretty JSON Schema text, for every known event type and version."""
    documents = {}
    for event_type, versions in EVENT_TYPES.items():
        for dataschema, model in versions.items():
            version = dataschema.rsplit(":", 1)[-1]
            schema = model.model_json_schema(mode="serialization")
            schema["$id"] = dataschema
            documents[f"{event_type}.v{version}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return documents


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "contracts/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in schema_documents().items():
        (target / name).write_text(text)
        print(f"wrote {target / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
