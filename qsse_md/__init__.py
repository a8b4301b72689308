"""qsse_md: molecular dynamics of lithium polymer electrolytes.

From a monomer SMILES to a packed, parameterised OpenMM box (``chem``,
``forcefield``, ``build``), through dynamics (``md``), to solvation, transport and
crystallisation analysis of any trajectory MDAnalysis reads (``analysis``, ``lib``).
"""

__version__ = "0.1.0"
