"""Plots of :class:`qsse_md.analysis.solvation.solvation.Solvation` results (matplotlib imported lazily)."""

import numpy as np

from qsse_md.analysis._plotting import axes_or_new



class SolvationPlots:
    """Mixin: ``plot_*`` methods that read ``self.results`` and return the Axes."""

    def plot(self, ax=None):
        """Same as :meth:`plot_coordination` (species counting)."""
        return self.plot_coordination(ax=ax)

    def plot_coordination(self, counting="species", ax=None):
        """Bar chart of mean coordination numbers with block standard errors.

        Parameters
        ----------
        counting : {"species", "group", "molecule"}
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes_or_new(ax)
        table = self.results.coordination[self.results.coordination["counting"] == counting]
        ax.bar(table["label"], table["mean"], yerr=np.nan_to_num(table["sem"].to_numpy()), capsize=3)
        ax.set_ylabel(f"coordination number per solute ({counting})")
        return ax

    def plot_distribution(self, counting="species", ax=None):
        """Probability of each coordination count, one line per label.

        Parameters
        ----------
        counting : {"species", "group", "molecule"}
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes_or_new(ax)
        table = self.results.coordination_distribution
        for label, rows in table[table["counting"] == counting].groupby("label", sort=False):
            ax.plot(rows["count"], rows["probability"], marker="o", label=label)
        ax.set_xlabel(f"count per solute ({counting})")
        ax.set_ylabel("probability")
        ax.legend()
        return ax

    def plot_compositions(self, top=10, by="species", ax=None):
        """Horizontal bars of the most frequent shell compositions.

        Parameters
        ----------
        top : int
            Number of compositions shown.
        by : {"species", "group"}
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = axes_or_new(ax)
        table = self.results.compositions if by == "species" else self.results.group_compositions
        if table is None:
            raise ValueError("no group compositions: the analysis was run without groups")
        head = table.head(top)[::-1]
        ax.barh(head["composition"], head["fraction"])
        ax.set_xlabel("fraction of solute-frame observations")
        return ax

    def plot_ion_pairing(self, ax=None):
        """SSIP/CIP/AGG fractions of solutes against time (ps).

        Returns
        -------
        matplotlib.axes.Axes
        """
        if self.results.ion_pairing_by_frame is None:
            raise ValueError("no ion pairing: the analysis was run without anions")
        ax = axes_or_new(ax)
        for name in self.results.ion_pairing_by_frame.columns:
            ax.plot(self.results.times_ps, self.results.ion_pairing_by_frame[name], label=name)
        ax.set_xlabel("time (ps)")
        ax.set_ylabel("fraction of solutes")
        ax.legend()
        return ax

    def plot_cluster_sizes(self, ax=None):
        """Fraction of solutes in Li-anion clusters of each size (in solutes).

        Returns
        -------
        matplotlib.axes.Axes
        """
        if self.results.cluster_sizes is None:
            raise ValueError("no clusters: the analysis was run without anions")
        ax = axes_or_new(ax)
        ax.bar(self.results.cluster_sizes["n_solutes"], self.results.cluster_sizes["fraction_of_solutes"])
        ax.set_xlabel("cluster size (solutes)")
        ax.set_ylabel("fraction of solutes")
        return ax

    def plot_residence(self, ax=None):
        """Residence correlation curves with fits (see ``ResidenceResult.plot``).

        Returns
        -------
        matplotlib.axes.Axes
        """
        return self.results.residence.plot(ax=ax)
