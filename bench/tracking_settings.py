"""Settings of the server bench/tracking loads: production's, plus a bare view.

Only the URLconf differs from ``cms.settings.production``: it adds the bare
view that is the benchmark's floor. Never used outside bench/tracking.
"""

from cms.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.tracking_urls"
