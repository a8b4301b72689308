"""The one table of units used throughout qsse_md.

Inside the package lengths are in angstrom (Å), times in picoseconds (ps), energies in
kJ/mol, charges in elementary charges (e) and masses in g/mol (Da), as in MDAnalysis.
OpenMM quantities (nm, kJ/mol) are converted at the ``build``/``md`` boundary only.
Results leave the package in SI or in the field's customary unit and say which: S/cm
for conductivity, 1e-10 m^2/s for diffusion coefficients, g/cm^3 for density.

Constants are CODATA 2018 exact or recommended values.
"""

AVOGADRO_PER_MOL = 6.02214076e23
BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19
GAS_CONSTANT_KJ_PER_MOL_K = BOLTZMANN_J_PER_K * AVOGADRO_PER_MOL / 1000.0
HARTREE_KJ_PER_MOL = 2625.4996394799
BOHR_ANGSTROM = 0.529177210903
KCAL_KJ = 4.184

ANGSTROM_PER_NM = 10.0
NM_PER_ANGSTROM = 0.1
CM3_PER_ANGSTROM3 = 1e-24
LITRE_PER_ANGSTROM3 = 1e-27
M2_PER_ANGSTROM2 = 1e-20
S_PER_PS = 1e-12


def density_g_per_cm3(mass_g_per_mol: float, volume_angstrom3: float) -> float:
    """Mass density in g/cm^3 of ``mass_g_per_mol`` (g/mol) in ``volume_angstrom3`` (Å^3)."""
    return mass_g_per_mol / AVOGADRO_PER_MOL / (volume_angstrom3 * CM3_PER_ANGSTROM3)


def volume_angstrom3_for_density(mass_g_per_mol: float, density_g_cm3: float) -> float:
    """Volume in Å^3 that holds ``mass_g_per_mol`` (g/mol) at ``density_g_cm3`` (g/cm^3)."""
    return mass_g_per_mol / AVOGADRO_PER_MOL / density_g_cm3 / CM3_PER_ANGSTROM3


def molarity_mol_per_l(count: int, volume_angstrom3: float) -> float:
    """Concentration in mol/L of ``count`` molecules in ``volume_angstrom3`` (Å^3)."""
    return count / AVOGADRO_PER_MOL / (volume_angstrom3 * LITRE_PER_ANGSTROM3)
