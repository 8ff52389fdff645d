"""The public surface: __all__ is honest, importing has no side effects, settings are documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mlaudit
from mlaudit.config import Settings, settings_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(mlaudit) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(mlaudit, n)).__name__ in ("module", "_Feature")}
    assert set(mlaudit.__all__) == (public - modules) | {"__version__"}


def test_import_does_not_touch_disk_or_pull_heavy_modules(tmp_path: Path) -> None:
    code = (
        "import sys, os; before = set(os.listdir('.')); import mlaudit; "
        "heavy = [m for m in ('pyarrow', 'fastapi', 'plotly', 'torch', 'pyspark') if m in sys.modules]; "
        "assert not heavy, heavy; assert set(os.listdir('.')) == before"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)


def test_settings_are_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    assert settings_markdown() in doc, (
        "regenerate docs/settings.md from mlaudit.config.settings_markdown()"
    )
    for name in Settings.model_fields:
        assert f"MLAUDIT_{name.upper()}" in doc


def test_migrations_match_table_definitions(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from mlaudit.store.tables import metadata

    with mlaudit.open(tmp_path / "ws") as ws:
        inspector = sa.inspect(ws.store.engine)
        for table in metadata.sorted_tables:
            migrated = {c["name"] for c in inspector.get_columns(table.name)}
            assert migrated == {c.name for c in table.columns}, table.name
