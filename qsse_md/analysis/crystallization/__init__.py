"""Crystallization and order: polymer backbones and chain order, side-chain packing,
Steinhardt order, X-ray structure factor and bilinear transition fits."""
