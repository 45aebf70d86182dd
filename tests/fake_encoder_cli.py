"""``python -m tests.fake_encoder_cli ARGS``: the real ``redlines-bot`` command with the fake encoder, for tests
that need a second process (a build racing the bot, two writers, bytes on standard input).

``FAKE_ENCODER_DELAY`` (seconds) slows every document batch, and a tenth of it every query, so a test can
act while the process is busy.
"""

from __future__ import annotations

import os
import sys
import time

from bot import cli
from bot.index import encoder as encoder_module
from bot.index import encoders
from bot.serving import resources
from tests.conftest import FakeEncoder


class SlowFakeEncoder(FakeEncoder):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode_documents(self, texts, progress=None):
        time.sleep(self.delay)
        return super().encode_documents(texts, progress)

    def encode_queries(self, texts):
        time.sleep(self.delay / 10)
        return super().encode_queries(texts)


def main(argv: list[str]) -> int:
    fake = SlowFakeEncoder(float(os.environ.get("FAKE_ENCODER_DELAY", "0")))
    encoders.load_encoder = lambda config: fake
    resources.load_encoder = lambda config: fake
    encoder_module.model_folder = lambda package: None
    encoder_module.weights_fingerprint = lambda folder: fake.fingerprint
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
