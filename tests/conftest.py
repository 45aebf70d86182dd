"""Shared fixtures: a deterministic fake encoder, a tiny corpus, configs in temporary folders, and the
real packaged model loaded once per test session."""

from __future__ import annotations

import os

# One thread for OpenMP/BLAS/FAISS/torch in every test process and in the processes tests start: on these
# 2-core machines two threads make each query several times slower (set before numpy or faiss load).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import hashlib  # noqa: E402
import shutil  # noqa: E402
import textwrap  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bot.config import Config, load_config  # noqa: E402
from bot.core.text import words  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


class FakeEncoder:
    """Bag of words hashed into 256 dimensions, normalised: texts that share words are similar.

    Deterministic and instant, so everything but the model itself is tested without torch.
    """

    model_id = "fake/hashed-words"
    fingerprint = "fake0001"
    dimension = 256

    def __init__(self) -> None:
        self.encoded_documents: list[str] = []
        self.query_calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in words(text):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_calls += 1
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dimension)

    def encode_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.encoded_documents.extend(texts)
        if progress:
            progress(len(texts))
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dimension)


LETTER = textwrap.dedent("""\
    ---
    id: letter
    title: Test Letter
    kind: letter
    language: en
    url: https://example.org/letter
    date: 2025-09-22
    questions:
      ¶3:
        - When is the deadline?
    ---
    Bees make honey in summer. Honey is sweet and golden.

    ## A heading that is not a passage

    Rivers flow to the sea. The sea is salty and wide. Fish swim in the sea.

    Governments must agree on red lines by the end of 2026.
    """)

FAQ = textwrap.dedent("""\
    - id: who-organised
      language: en
      question: Who organised the call?
      alternatives:
        - Which groups coordinated the campaign?
        - Who is behind the letter?
      answer: Three nonprofits organised it, CeSIA, The Future Society and CHAI.
      sources:
        - title: Launch post
          url: https://example.org/launch
    - id: quand-lancement
      language: fr
      question: Quand l'appel a-t-il été lancé ?
      alternatives:
        - Quelle est la date du lancement ?
      answer: L'appel a été lancé le 22 septembre 2025 à New York.
      sources:
        - title: Article
          url: https://example.org/article
    """)


def write_corpus(root: Path, letter: str = LETTER, faq: str = FAQ) -> Path:
    (root / "documents").mkdir(parents=True, exist_ok=True)
    (root / "faq").mkdir(parents=True, exist_ok=True)
    (root / "documents" / "letter.en.md").write_text(letter, encoding="utf-8")
    (root / "faq" / "faq.yaml").write_text(faq, encoding="utf-8")
    return root


def write_config(folder: Path, extra: str = "", **retrieval: object) -> Path:
    lines = ["model:", f"  id: {FakeEncoder.model_id}", "retrieval:", "  decline_threshold: 0.3"] + [f"  {k}: {v}" for k, v in retrieval.items()]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a tiny corpus and a config.yaml whose paths point inside it."""
    write_corpus(tmp_path / "corpus")
    write_config(tmp_path)
    return tmp_path


@pytest.fixture
def config(project: Path) -> Config:
    return load_config(project / "config.yaml")


@pytest.fixture
def real_project(tmp_path: Path, real_encoder) -> Path:
    """A copy of the repository's own corpus and config in a temporary folder, its question sets (read only) and
    adapted encoders linked from the repository's (``real_encoder`` has trained the configured one), so that an
    index build there adapts nothing again."""
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "eval").symlink_to(REPO / "tests" / "eval")
    from bot.index.adaptation import link_adapted

    link_adapted(REPO / "index", tmp_path / "index")
    return tmp_path


def with_repository_question_sets(config: Config) -> Config:
    """A config copied into a temporary folder, its question sets pointed back at the repository's."""
    import dataclasses

    evaluation = dataclasses.replace(config.evaluation, bank=REPO / "tests" / "eval" / "bank",
                                     train_extra=REPO / "tests" / "eval" / "train-extra",
                                     questions=REPO / "tests" / "eval" / "dev-questions.yaml")
    return dataclasses.replace(config, evaluation=evaluation)


@pytest.fixture(scope="session")
def real_encoder():
    """The encoder config.yaml names, loaded once for the whole session (about 5 s): all-MiniLM-L6-v2 adapted to
    the corpus (``model.adapt``), trained first when index/adapted/ doesn't hold it yet (about 4 minutes, once per
    checkout, as ``index build`` would)."""
    from bot.index.encoders import load_encoder

    return load_encoder(load_config(REPO / "config.yaml"), train=True)


# ---- network guard -------------------------------------------------------------------------------------
# Tests may only talk to 127.0.0.1 / ::1 (the fake Discord). Any other connection, or a name lookup
# for another host, fails the test at once instead of reaching (or waiting for) the internet.

import socket as _socket  # noqa: E402

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    return host in _LOOPBACK_NAMES or host.startswith("127.")


class NonLoopbackConnection(AssertionError):
    """A test tried to reach something other than the loopback interface."""


@pytest.fixture(autouse=True, scope="session")
def loopback_only():
    real_connect = _socket.socket.connect
    real_connect_ex = _socket.socket.connect_ex
    real_getaddrinfo = _socket.getaddrinfo

    def check(sock: _socket.socket, address: object) -> None:
        if sock.family == _socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            raise NonLoopbackConnection(f"tests may only connect to loopback, not {address!r}")

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback(host if isinstance(host, str) else str(host)):
            raise NonLoopbackConnection(f"tests may only resolve loopback names, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    _socket.socket.connect = connect
    _socket.socket.connect_ex = connect_ex
    _socket.getaddrinfo = getaddrinfo
    yield
    _socket.socket.connect = real_connect
    _socket.socket.connect_ex = real_connect_ex
    _socket.getaddrinfo = real_getaddrinfo


@pytest.fixture(scope="session")
def torch_encoder():
    """The sentence-transformers encoder, for parity checks against the default ONNX one."""
    import dataclasses

    from bot.index.encoders import load_encoder

    config = load_config(REPO / "config.yaml")
    return load_encoder(dataclasses.replace(config, model=dataclasses.replace(config.model, encoder="torch")), train=True)


# ---- PostgreSQL -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL cluster for the session (tests/postgres.py); skipped, with the reason, where the
    binaries are missing."""
    from .postgres import Cluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster) -> str:
    """The address of a fresh, empty database in the session's cluster."""
    return postgres_cluster.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request, tmp_path):
    """The same storage test against embedded SQLite and against PostgreSQL."""
    if request.param == "sqlite":
        return tmp_path / "data" / "bot.sqlite3"
    return request.getfixturevalue("postgres_url")
