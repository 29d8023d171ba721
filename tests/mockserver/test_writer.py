"""The compiled writer and its Python source write the same bytes.

``mockserver/writer.py`` is compiled with Cython at install time (``setup.py``) and Python imports
the compiled module; these tests run the source as plain Python next to it. A difference here is
a customer that changes with the machine it is served from, which the determinism promise forbids.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mockserver.writer as installed
from mockserver import dataset as dataset_module
from mockserver.customer_json import choose_writer, projection_plan
from mockserver.dataset import Dataset, writer_source
from mockserver.fields import parse_fields
from mockserver.model import CUSTOMER_PATHS
from mockserver.writer import ID_SPAN, NEED_ALL

source = writer_source()


def test_the_installed_writer_is_compiled_and_in_use() -> None:
    """``pip install -e .`` compiles the writer (``MOCKSERVER_PURE_PYTHON=1`` opts out on purpose)."""
    if os.environ.get("MOCKSERVER_PURE_PYTHON", "") not in ("", "0"):
        assert not installed.COMPILED
        return
    assert installed.COMPILED, "mockserver/writer.py was not compiled: is a C compiler installed? (see setup.py)"
    assert not source.COMPILED
    # setup.py stamps writer.digest; the dataset computes it again (they must agree, or every
    # install would run the source)
    assert dataset_module.writer is installed, (
        "mockserver/writer.py or writer.pxd changed after it was compiled: run `pip install -e .` again")


seeds = st.integers() | st.sampled_from([0, 42, -1, 2**64 - 1, 2**64, 2**200])
sizes = st.integers(min_value=1, max_value=ID_SPAN) | st.sampled_from([1, 1000, 1_000_000, ID_SPAN])
needs = st.integers(min_value=0, max_value=NEED_ALL)


@given(seed=seeds, count=sizes, data=st.data())
def test_compiled_and_source_write_the_same_customer(seed: int, count: int, data: st.DataObject) -> None:
    layout = Dataset(seed, count)._layout
    i = data.draw(st.integers(min_value=0, max_value=count - 1) | st.sampled_from([0, count - 1]), label="i")
    need = data.draw(needs, label="need")
    assert installed.customer_json(layout, i) == source.customer_json(layout, i)
    assert installed.pieces(layout, i, need) == source.pieces(layout, i, need)


@given(seed=seeds, paths=st.lists(st.sampled_from(sorted(CUSTOMER_PATHS)), min_size=1, max_size=8),
       i=st.integers(min_value=0, max_value=9_999))
def test_compiled_and_source_write_the_same_projection(seed: int, paths: list[str], i: int) -> None:
    layout = Dataset(seed, 10_000)._layout
    need, members = projection_plan(parse_fields(",".join(paths), CUSTOMER_PATHS))
    assert (installed.customer_json_fields(layout, i, need, members)
            == source.customer_json_fields(layout, i, need, members))


def test_compiled_and_source_agree_on_consecutive_customers() -> None:
    """Every branch (second email, work phone, 0..3 orders, notes, update lag) over a dense run."""
    for seed in (0, 42, -7):
        layout = Dataset(seed, 1_000_000)._layout
        for i in list(range(3000)) + list(range(1_000_000 - 500, 1_000_000)):
            assert installed.customer_json(layout, i) == source.customer_json(layout, i), (seed, i)


@pytest.mark.parametrize("i", [-1, 1000, 2**63, 2**64 + 5, -(2**70)])
def test_both_reject_an_index_outside_the_dataset_alike(i: int) -> None:
    layout = Dataset(1, 1000)._layout
    for module in (installed, source):
        with pytest.raises(IndexError, match="outside 0..999"):
            module.customer_json(layout, i)
        with pytest.raises(IndexError):
            module.pieces(layout, i, NEED_ALL)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_mix_is_the_same_function_in_both(x: int) -> None:
    assert installed.mix(x) == source.mix(x)


def test_an_edited_source_is_run_instead_of_a_stale_compiled_module(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The compiled module runs only beside the sources its digest stamp names (setup.py writes it)."""
    (tmp_path / "writer.py").write_text("# source\n")
    (tmp_path / "writer.pxd").write_text("# types\n")
    (tmp_path / "writer.digest").write_text(dataset_module.writer_digest(tmp_path) + "\n")
    compiled = SimpleNamespace(COMPILED=True, __file__=str(tmp_path / "writer.cpython-311-x86_64-linux-gnu.so"))
    assert choose_writer(compiled) is compiled  # type: ignore[arg-type]
    for edited in ("writer.py", "writer.pxd"):
        original = (tmp_path / edited).read_text()
        (tmp_path / edited).write_text(original + "# edited\n")
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="mockserver"):
            assert choose_writer(compiled) is source  # type: ignore[arg-type]
        assert "changed since the writer was compiled" in caplog.text
        (tmp_path / edited).write_text(original)
    (tmp_path / "writer.digest").unlink()  # compiled by something other than setup.py
    assert choose_writer(compiled) is source  # type: ignore[arg-type]
    pure = SimpleNamespace(COMPILED=False, __file__=str(tmp_path / "writer.py"))
    assert choose_writer(pure) is pure  # type: ignore[arg-type]

