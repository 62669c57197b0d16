"""A replica whose answers take `GUIDE_TEST_ANSWER_SECONDS` (for tests of draining): the extractive
answerer behind a pause, registered as `answer.backend: slow`, then `guide.serve.replica` as it runs."""

from __future__ import annotations

import os
import time

from guide.answer.extractive import ExtractiveAnswerer
from guide.answer.registry import ANSWERERS


class SlowAnswerer(ExtractiveAnswerer):
    def answer(self, *args, **kwargs):
        time.sleep(float(os.environ.get("GUIDE_TEST_ANSWER_SECONDS", "3")))
        return super().answer(*args, **kwargs)


if __name__ == "__main__":
    from guide.serve.replica import main

    ANSWERERS["slow"] = SlowAnswerer
    main()
