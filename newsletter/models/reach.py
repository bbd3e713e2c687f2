"""The reach the network aims for, against which the figures are reported."""

from __future__ import annotations

from django.db import models


class ReachTarget(models.Model):
    """One set of reach targets; the most recent row is the one in force.

    The defaults are the network's targets: 100 MPs, 15 countries, 1,000 people
    reached indirectly and 8 parliaments with a focal point.
    """

    direct_mps = models.PositiveIntegerField(default=100)
    countries = models.PositiveIntegerField(default=15)
    indirect = models.PositiveIntegerField(default=1000)
    focal_point_parliaments = models.PositiveIntegerField(default=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "reach target"
        verbose_name_plural = "reach targets"

    def __str__(self) -> str:
        return (
            f"{self.direct_mps} MPs, {self.countries} countries, "
            f"{self.indirect} indirect, {self.focal_point_parliaments} parliaments"
        )

    @classmethod
    def current(cls) -> ReachTarget:
        """Return the targets in force: the latest row, or the unsaved defaults."""
        return cls.objects.first() or cls()
