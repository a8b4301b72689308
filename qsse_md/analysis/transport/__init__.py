"""Transport: diffusion, conductivity and Onsager coefficients (Einstein and Green–Kubo),
their fit windows, plots and temperature series (Arrhenius, VTF)."""
