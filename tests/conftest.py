"""Shared fixtures: a real index of the bundled knowledge base, built once per test session in a
temporary DATA_DIR, and settings that point at it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from indexer.refresh import refresh
from indexer.settings import IndexSettings

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


def settings_env(data_dir: Path, knowledge_dir: Path = KNOWLEDGE, **extra: str) -> dict[str, str]:
    env = {"DATA_DIR": str(data_dir), "KNOWLEDGE_DIR": str(knowledge_dir), "LOG_FORMAT": "text"}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DATA_DIR holding an index of knowledge/ (built once; copy it before changing it)."""
    data = tmp_path_factory.mktemp("data")
    refresh(IndexSettings.from_env(settings_env(data)))
    return data


@pytest.fixture
def data_dir(built_index: Path, tmp_path: Path) -> Path:
    """A private copy of the built index, so a test may write to it."""
    target = tmp_path / "data"
    shutil.copytree(built_index, target)
    return target


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings.from_env(settings_env(data_dir))


@pytest.fixture
def make_settings(data_dir: Path):  # type: ignore[no-untyped-def]
    """Settings over the private index copy, with extra environment values."""

    def make(**extra: str) -> Settings:
        return Settings.from_env(settings_env(data_dir, **extra))

    return make
