"""Li+ solvation: g(r) and shell cutoffs, contact tables, shell compositions, residence,
coordinating groups, polymer-solvent affinity, released liquid and DFT cluster cuts."""
