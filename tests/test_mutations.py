"""`make mutate`'s copies of the repository: what each mutant is made of."""

from pathlib import Path

import pytest

import mutations


def test_a_mutant_links_the_npm_set_up_rather_than_copying_it(tmp_path: Path) -> None:
    """node_modules is large: copied for each of some 150 mutants, it took about ten seconds
    each, a third of `make mutate`."""
    present = [name for name in mutations.NPM_SET_UP if (mutations.ROOT / name).exists()]
    if not present:
        pytest.skip("no npm set-up here: `make setup` installs it")
    baseline = mutations.link_npm_set_up(tmp_path / "baseline")
    (baseline / "mutations.py").write_text("MUTATIONS = []\n")
    mutant = mutations.copy_of_mutant(baseline, tmp_path / "mutant")
    for name in present:
        assert (mutant / name).is_symlink(), name
        assert (mutant / name).resolve() == (mutations.ROOT / name).resolve()
    assert (mutant / "mutations.py").read_bytes() == (baseline / "mutations.py").read_bytes()
    assert not (mutant / "mutations.py").is_symlink()
