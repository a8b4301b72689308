import pytest

from qsse_md import units


def test_density_round_trip_and_exact_value():
    # one mole of 18.015 g/mol in 18.015 cm^3 is 1 g/cm^3
    volume = 18.015 / units.AVOGADRO_PER_MOL / units.CM3_PER_ANGSTROM3
    assert units.density_g_per_cm3(18.015, volume) == pytest.approx(1.0, rel=1e-12)
    assert units.volume_angstrom3_for_density(100.0, 1.25) == pytest.approx(
        100.0 / units.AVOGADRO_PER_MOL / 1.25 * 1e24, rel=1e-12)


def test_molarity_of_one_molecule_per_litre_scale():
    litre_angstrom3 = 1e27
    assert units.molarity_mol_per_l(units.AVOGADRO_PER_MOL, litre_angstrom3) == pytest.approx(1.0)


def test_gas_constant():
    assert units.GAS_CONSTANT_KJ_PER_MOL_K == pytest.approx(8.314462618e-3, rel=1e-9)
