"""Box assembly: compositions, PACKMOL packing and the OpenMM Topology and System of a recipe."""
