"""Write the gateway's OpenAPI document (what `/openapi.json` serves) to a file, without starting
anything: the console's typed API client is generated from it (`make web-api`)."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi.json")
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    from gateway.main import create_app
    from gateway.settings import Settings

    document = create_app(Settings()).openapi()
    out.write_text(
        json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
